//! Loops that run in order, their iterations spread over threads (`#[kernel(parallel)]`):
//! Numba's `prange`, inferred by the macro (`macros/src/lower/in_order.rs`) for an outermost
//! `for i in lo..hi` whose iterations touch only row `i` of the outputs (`out[[i, j]]`,
//! `out[i]`) and assign no value from outside the loop.
//!
//! # The contract
//! - [`Rows`] shares an output between the iterations of one loop. An iteration reaches it
//!   only through its [`Row`], which touches only elements whose first index is the
//!   iteration's own `i`: checked at every access (the macro makes a loop parallel only when
//!   every access of its outputs is written with that `i`, so the check never fails in
//!   generated code; it is what makes [`Rows`] sound to share).
//! - [`for_rows`] hands each `i` to exactly one thread, so no element of an output is
//!   touched by two threads: the writes are race-free, though the outputs are shared. Inputs
//!   are shared borrows, never written.
//! - Each iteration computes what it computes in the serial loop (it reads inputs, its own
//!   row and its own values), so the outputs are the serial loop's, bit for bit, for every
//!   thread count.
//! - A panic in an iteration reaches the caller (rayon's `for_each`); when several rows
//!   fail, which one's message is reported may differ from the serial loop's first.

use crate::nd::NdViewMut;
use crate::par::{Enter, Work};
use crate::view::ViewMut;
use rayon::prelude::*;
use std::cell::Cell;
use std::ops::Range;

/// The outputs a parallel loop shares (a tuple of `&[Cell<T>]`, `&ViewMut<T>`,
/// `&NdViewMut<T>`): [`for_rows`] hands iteration `i` their rows `i`, and only those.
pub trait Shared {
    /// The rows of a chunk of iterations.
    type Rows;
    /// Rows `range`. Private to the driver in effect: only [`for_rows`] holds a `Shared` on
    /// several threads.
    fn rows(&self, range: Range<usize>) -> Self::Rows;
}

macro_rules! shared_tuple {
    ($($o:ident $k:tt),+) => {
        impl<'o, $($o: ?Sized),+> Shared for ($(&'o $o,)+) {
            type Rows = ($(Row<'o, $o>,)+);
            #[inline(always)]
            fn rows(&self, range: Range<usize>) -> Self::Rows {
                ($(Row { out: self.$k, rows: range.clone() },)+)
            }
        }
    };
}
shared_tuple!(A 0);
shared_tuple!(A 0, B 1);
shared_tuple!(A 0, B 1, C 2);
shared_tuple!(A 0, B 1, C 2, D 3);
shared_tuple!(A 0, B 1, C 2, D 3, E 4);
shared_tuple!(A 0, B 1, C 2, D 3, E 4, F 5);

/// The outputs as the threads share them.
struct AssertSync<S>(S);
// SAFETY: the module contract: an iteration touches the outputs only through the rows
// `for_rows` gives it, which reach only its own row; each row belongs to one iteration, and
// a `Row` cannot leave its thread (it holds a shared borrow of a non-`Sync` output).
unsafe impl<S> Sync for AssertSync<S> {}

impl<S: Shared> AssertSync<S> {
    /// A method, not a field: a closure calling it captures the whole (`Sync`) wrapper.
    #[inline(always)]
    fn rows(&self, range: Range<usize>) -> S::Rows {
        self.0.rows(range)
    }
}

/// Rows `lo..hi` of a shared output, those of a chunk of iterations: the elements whose
/// first index is in the chunk (module docs).
pub struct Row<'o, O: ?Sized> {
    out: &'o O,
    rows: Range<usize>,
}

impl<'o, O: ?Sized> Row<'o, O> {
    /// The output, for an access whose first index is `first`.
    ///
    /// # Panics
    /// If `first` is not this row's (never, in generated code: module contract).
    #[inline(always)]
    #[track_caller]
    fn at(&self, first: usize) -> &'o O {
        assert!(
            self.rows.contains(&first),
            "loopfuse: the iterations {:?} of a parallel loop reached row {first}",
            self.rows
        );
        self.out
    }
}

impl<'o, 'v, T> Row<'o, NdViewMut<'v, T>> {
    /// The rows' first indices, for the checks of `crate::nd::index`.
    #[inline(always)]
    pub(crate) fn rows(&self) -> Range<usize> {
        self.rows.clone()
    }

    /// The whole output (the caller keeps to the row).
    #[inline(always)]
    pub(crate) fn view(&self) -> &'o NdViewMut<'v, T> {
        self.out
    }
}

impl<T: Copy> crate::__private::Elements<T> for Row<'_, [Cell<T>]> {
    #[inline(always)]
    #[track_caller]
    fn get(&self, i: usize) -> T {
        self.at(i)[i].get()
    }
    #[inline(always)]
    #[track_caller]
    fn set(&self, i: usize, value: T) {
        self.at(i)[i].set(value)
    }
}

impl<T: Copy> crate::__private::Elements<T> for Row<'_, ViewMut<'_, T>> {
    #[inline(always)]
    #[track_caller]
    fn get(&self, i: usize) -> T {
        self.at(i).get(i)
    }
    #[inline(always)]
    #[track_caller]
    fn set(&self, i: usize, value: T) {
        self.at(i).set(i, value)
    }
}

/// One chunk of iterations, run inside the level's `#[target_feature]` function.
struct Chunk<'b, B, R> {
    body: &'b B,
    range: Range<usize>,
    rows: R,
}

impl<B: Fn(Range<usize>, R), R> Work for Chunk<'_, B, R> {
    type Output = ();
    #[inline(always)]
    fn run(self) {
        (self.body)(self.range, self.rows)
    }
}

/// Runs `body(range, rows range of shared)` over chunks of `lo..hi` that together cover it
/// once, spread over rayon's pool (on the calling thread for a single iteration), each
/// inside the `#[target_feature]` function of `level` (where `crate::target()` reports it,
/// as in the chunks of a parallel pass). A chunk's iterations run in order on one thread,
/// as the serial loop's do.
///
/// ```
/// use loopfuse_runtime::__private::{cells, Elements};
/// use loopfuse_runtime::level::{Generic, Level};
/// use loopfuse_runtime::rows::for_rows;
/// let mut v = vec![0usize; 100];
/// for_rows(Generic::try_new().unwrap(), 0, 100, (cells(&mut v),), |range, (v,)| {
///     for i in range {
///         v.set(i, i * i);
///     }
/// });
/// assert_eq!(v[7], 49);
/// ```
#[inline]
pub fn for_rows<L: Enter + Send + Sync, S: Shared>(
    level: L,
    lo: usize,
    hi: usize,
    shared: S,
    body: impl Fn(Range<usize>, S::Rows) + Sync + Send,
) {
    let shared = AssertSync(shared);
    let n = hi.saturating_sub(lo);
    // A few chunks per thread, so that uneven rows (a triangle) still balance.
    let chunks = (rayon::current_num_threads() * 4).min(n).max(1);
    let chunk = |c: usize| lo + n * c / chunks..lo + n * (c + 1) / chunks;
    let run = |range: Range<usize>| level.enter(Chunk { body: &body, rows: shared.rows(range.clone()), range });
    if chunks == 1 {
        run(lo..lo + n);
    } else {
        (0..chunks).into_par_iter().for_each(|c| run(chunk(c)));
    }
}
