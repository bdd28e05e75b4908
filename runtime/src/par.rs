//! The parallel pass driver of `#[kernel(parallel)]`: one pass split into chunks run on
//! rayon's pool (the global one, or the pool the caller is `install`ed in), with the same
//! bits as the serial driver ([`crate::pass`]) for every thread count.
//!
//! # The split (the determinism contract, continued)
//! - Below [`THRESHOLD`] elements, or on a pool of one thread, the pass is the serial one:
//!   no pool is touched.
//! - Above, the lane groups `0..n - n % 32` are cut into chunks of `2^k` whole blocks of
//!   [`BLOCK`] elements, chunk `c` starting at block `c * 2^k`. `k` depends on the length
//!   and the thread count, but the result does not: the serial cascade, arriving at block
//!   `c * 2^k` with its lower `k` levels empty, combines the chunk's blocks into one level-`k`
//!   value by exactly the tree a fresh cascade over the chunk computes, then carries that
//!   value up as if it were one block. So each chunk runs the serial block loop into its own
//!   [`Cascade`]; the chunks' values are pushed, in chunk order, onto an outer cascade, and
//!   the last (maybe shorter) chunk's value is finished onto it ([`Cascade::finish_onto`]).
//!   The lane tree and the tail (`n % 32` elements, one by one) then run on the calling
//!   thread, as in the serial driver.
//! - Outputs: chunk `c` writes exactly its own elements (and reads an in-place output only
//!   at the index it writes), so chunks share no element; no lock, no atomic on data. A
//!   fresh output is allocated untouched ([`crate::output::OutBuf`]), so each page — huge
//!   pages included — is first touched by the thread that writes it.
//! - Each chunk runs inside a `#[target_feature]` function of the kernel's level ([`Enter`]),
//!   and sees that level as [`crate::target()`], so the body the clone inlined is compiled
//!   with the same features on every worker.
//! - A panic in a chunk reaches the caller with its own payload (rayon resumes it).
//!
//! ```
//! use loopfuse_runtime::level::{Generic, Level};
//! use loopfuse_runtime::output::OutBuf;
//! use loopfuse_runtime::par;
//! use loopfuse_runtime::reduce::Sum;
//! let x: Vec<f64> = (0..300_000).map(|i| (i % 7) as f64 * 0.1).collect();
//! let x = &x[..];
//! let level = Generic::try_new().unwrap();
//! let serial = loopfuse_runtime::pass::pass(x.len(), (x,), (Sum::new(),), (), |(x,)| ((x * x,), ()));
//! let pool = rayon::ThreadPoolBuilder::new().num_threads(3).build().unwrap();
//! let mut y = OutBuf::new(x.len());
//! let parallel = pool.install(|| par::pass(level, x.len(), (x,), (Sum::new(),), (&mut y,), |(x,)| ((x * x,), (x + 1.0,))));
//! assert_eq!(serial.0.to_bits(), parallel.0.to_bits());
//! assert_eq!(y.into_vec()[299_999], x[299_999] + 1.0);
//! ```

use crate::level::Level;
use crate::output::OutBuf;
use crate::pass::{blocks, check_lengths, combine_lanes, elements, merge_lanes, tail};
use crate::pass::{Cascade, Current, Indices, Reducers, Sink, Sinks, Source, Sources, BLOCK, LANES};
use crate::stage::Stages;
use crate::view::{Shifted, View, ViewMut};
use rayon::prelude::*;
use std::cell::Cell;

/// Elements below which a `parallel` kernel's pass runs serially (measured on a 2-core
/// machine: README, "Parallel"). Below it, the pool's start-up costs more than a core saves.
pub const THRESHOLD: usize = 1 << 17;

/// Blocks per chunk at least (`2^3` blocks = 16 Ki elements) and at most (`2^8` = 512 Ki).
pub(crate) const MIN_CHUNK_BLOCKS: usize = 8;
const MAX_CHUNK_BLOCKS: usize = 256;

/// Chunks per thread aimed at: enough to even out a busy machine's cores.
pub(crate) const CHUNKS_PER_THREAD: usize = 8;

/// Blocks per chunk for `blocks` blocks on `threads` threads: a power of two (module docs).
pub(crate) fn chunk_blocks(blocks: usize, threads: usize) -> usize {
    (blocks / (CHUNKS_PER_THREAD * threads)).next_power_of_two().clamp(MIN_CHUNK_BLOCKS, MAX_CHUNK_BLOCKS)
}

/// Work run inside a level's `#[target_feature]` function ([`Enter::enter`]). A trait, not a
/// closure: `run` is `#[inline(always)]`, so the work is certainly inlined into the function
/// with the features (a closure may be left out of line, compiled without them).
pub trait Work {
    /// What the work returns.
    type Output;
    /// Does the work.
    fn run(self) -> Self::Output;
}

/// A level token that can run [`Work`] compiled with its level's target features, on any
/// thread: the token proves the CPU has them. Implemented by every level token.
///
/// ```
/// use loopfuse_runtime::level::{Generic, Level};
/// use loopfuse_runtime::par::{Enter, Work};
/// struct Seen;
/// impl Work for Seen {
///     type Output = loopfuse_runtime::Target;
///     fn run(self) -> Self::Output {
///         loopfuse_runtime::target()
///     }
/// }
/// let g = Generic::try_new().unwrap();
/// assert_eq!(std::thread::spawn(move || g.enter(Seen)).join().unwrap(), loopfuse_runtime::Target::Generic);
/// ```
pub trait Enter: Level {
    /// Runs `work` with the level's features, and with the level as [`crate::target()`].
    fn enter<W: Work>(self, work: W) -> W::Output;
}

macro_rules! enter {
    ($name:ident $V:ident $clone:ident (all()) []) => {
        impl Enter for crate::level::$V {
            #[inline(always)]
            fn enter<W: Work>(self, work: W) -> W::Output {
                crate::target::scoped(crate::Target::$V, || work.run())
            }
        }
    };
    ($name:ident $V:ident $clone:ident ($($arch:tt)*) [$($feat:tt)*]) => {
        impl Enter for crate::level::$V {
            #[inline(always)]
            fn enter<W: Work>(self, work: W) -> W::Output {
                #[cfg($($arch)*)]
                {
                    #[inline]
                    #[target_feature($(enable = $feat),*)]
                    fn run<W: Work>(work: W) -> W::Output {
                        work.run()
                    }
                    // SAFETY: `self` is a token of this level, which proves the CPU has its
                    // features (`Level`).
                    crate::target::scoped(crate::Target::$V, || unsafe { run(work) })
                }
                #[cfg(not($($arch)*))]
                {
                    // No token of another architecture's level can be made.
                    let _ = work;
                    unreachable!("a level of another architecture")
                }
            }
        }
    };
}

crate::__lf_level!(generic => enter {});
crate::__lf_level!(v2 => enter {});
crate::__lf_level!(v3 => enter {});
crate::__lf_level!(v4 => enter {});
crate::__lf_level!(neon => enter {});

// ---- operands shared by the chunks ------------------------------------------------------

/// Unit-stride elements at a raw pointer: an output (or an in-place output read by
/// [`Current`]) as every chunk of a parallel pass writes (reads) it.
pub struct Raw<T> {
    ptr: *mut T,
    len: usize,
}

/// Strided elements at a raw pointer (element `i` at `ptr + i * stride`), as [`Raw`].
pub struct Strided<T> {
    ptr: *mut T,
    len: usize,
    stride: isize,
}

impl<T> Clone for Raw<T> {
    #[inline(always)]
    fn clone(&self) -> Self {
        *self
    }
}
impl<T> Copy for Raw<T> {}
impl<T> Clone for Strided<T> {
    #[inline(always)]
    fn clone(&self) -> Self {
        *self
    }
}
impl<T> Copy for Strided<T> {}

// SAFETY: made only by `ParSource::part`/`ParSink::part` below, from a borrow the pass holds
// for its whole run, and used only by the chunks of that pass, which access disjoint index
// ranges (a chunk reads an in-place output only at indices it writes itself): no element is
// accessed from two threads. Values of `T` move between threads, hence `T: Send`.
unsafe impl<T: Send> Send for Raw<T> {}
// SAFETY: as above.
unsafe impl<T: Send> Sync for Raw<T> {}
// SAFETY: as above.
unsafe impl<T: Send> Send for Strided<T> {}
// SAFETY: as above.
unsafe impl<T: Send> Sync for Strided<T> {}

impl<T: Copy> Sink for Raw<T> {
    type Item = T;
    type Flat = Self;
    #[inline(always)]
    fn len(&self) -> usize {
        self.len
    }
    #[inline(always)]
    fn is_unit_stride(&self) -> bool {
        true
    }
    #[inline(always)]
    unsafe fn into_flat(self) -> Self {
        self
    }
    #[inline(always)]
    unsafe fn put(&mut self, i: usize, value: T) {
        // SAFETY: i < len (forwarded contract): element i of the borrowed output.
        unsafe { self.ptr.add(i).write(value) }
    }
}

impl<T: Copy> Source for Raw<T> {
    type Item = T;
    type Flat = Self;
    #[inline(always)]
    fn len(&self) -> usize {
        self.len
    }
    #[inline(always)]
    fn is_unit_stride(&self) -> bool {
        true
    }
    #[inline(always)]
    unsafe fn into_flat(self) -> Self {
        self
    }
    #[inline(always)]
    unsafe fn get(&self, i: usize) -> T {
        // SAFETY: i < len (forwarded contract): element i of the borrowed, initialized output.
        unsafe { self.ptr.add(i).read() }
    }
}

impl<T: Copy> Sink for Strided<T> {
    type Item = T;
    type Flat = Raw<T>;
    #[inline(always)]
    fn len(&self) -> usize {
        self.len
    }
    #[inline(always)]
    fn is_unit_stride(&self) -> bool {
        self.stride == 1 || self.len <= 1
    }
    #[inline(always)]
    unsafe fn into_flat(self) -> Raw<T> {
        Raw { ptr: self.ptr, len: self.len }
    }
    #[inline(always)]
    unsafe fn put(&mut self, i: usize, value: T) {
        // SAFETY: i < len (forwarded contract): the view's element i.
        unsafe { self.ptr.offset(i as isize * self.stride).write(value) }
    }
}

impl<T: Copy> Source for Strided<T> {
    type Item = T;
    type Flat = Raw<T>;
    #[inline(always)]
    fn len(&self) -> usize {
        self.len
    }
    #[inline(always)]
    fn is_unit_stride(&self) -> bool {
        self.stride == 1 || self.len <= 1
    }
    #[inline(always)]
    unsafe fn into_flat(self) -> Raw<T> {
        Raw { ptr: self.ptr, len: self.len }
    }
    #[inline(always)]
    unsafe fn get(&self, i: usize) -> T {
        // SAFETY: i < len (forwarded contract): the view's element i.
        unsafe { self.ptr.offset(i as isize * self.stride).read() }
    }
}

/// A [`Source`] the chunks of a parallel pass can read from several threads: itself when it
/// is `Sync`, else its elements as a [`Raw`] or [`Strided`]. `Copy`: each chunk reads through
/// its own copy, held in registers (a shared one is reloaded after every store of the loop,
/// which stops it vectorizing).
pub trait ParSource: Source {
    /// The shared form.
    type Part: Source<Item = Self::Item, Flat: Copy + Send + Sync> + Copy + Send + Sync;
    /// The shared form, valid while `self` is.
    fn part(self) -> Self::Part;
}

/// A [`Sink`] the chunks of a parallel pass write from several threads, each its own
/// elements: its elements as a [`Raw`] or [`Strided`].
pub trait ParSink: Sink {
    /// The shared form.
    type Part: Sink<Item = Self::Item, Flat: Copy + Send + Sync> + Copy + Send + Sync;
    /// The shared form, valid while `self` is; [`Sink::done`] is still called on `self`.
    fn part(&mut self) -> Self::Part;
}

impl<T: Copy + Sync> ParSource for &[T] {
    type Part = Self;
    #[inline(always)]
    fn part(self) -> Self {
        self
    }
}

impl<T: Copy + Sync> ParSource for View<'_, T> {
    type Part = Self;
    #[inline(always)]
    fn part(self) -> Self {
        self
    }
}

impl ParSource for Indices {
    type Part = Self;
    #[inline(always)]
    fn part(self) -> Self {
        self
    }
}

impl<T: Copy + Send> ParSource for Current<&[Cell<T>]> {
    type Part = Raw<T>;
    #[inline(always)]
    fn part(self) -> Raw<T> {
        // `Cell<T>` has `T`'s layout, and writes through a pointer from `&Cell` are allowed.
        Raw { ptr: self.0.as_ptr().cast::<T>().cast_mut(), len: self.0.len() }
    }
}

impl<T: Copy + Send> ParSource for Current<&ViewMut<'_, T>> {
    type Part = Strided<T>;
    #[inline(always)]
    fn part(self) -> Strided<T> {
        Strided { ptr: self.0.ptr(), len: self.0.len(), stride: self.0.stride() }
    }
}

impl<T: Copy + Send> ParSource for Current<Shifted<'_, '_, T>> {
    type Part = Strided<T>;
    #[inline(always)]
    fn part(self) -> Strided<T> {
        shifted(&self.0)
    }
}

/// A window of an output as [`Strided`] elements.
#[inline(always)]
fn shifted<T>(s: &Shifted<'_, '_, T>) -> Strided<T> {
    // SAFETY: first < first + len <= the view's len (Shifted's invariant) when len > 0.
    let ptr = if s.len == 0 { s.view.ptr() } else { unsafe { s.view.at(s.first) } };
    Strided { ptr, len: s.len, stride: s.view.stride() }
}

impl<T: Copy + Send> ParSink for &mut OutBuf<T> {
    type Part = Raw<T>;
    #[inline(always)]
    fn part(&mut self) -> Raw<T> {
        Raw { ptr: self.as_mut_ptr(), len: OutBuf::len(self) }
    }
}

impl<T: Copy + Send> ParSink for &[Cell<T>] {
    type Part = Raw<T>;
    #[inline(always)]
    fn part(&mut self) -> Raw<T> {
        // `Cell<T>` has `T`'s layout, and writes through a pointer from `&Cell` are allowed.
        Raw { ptr: self.as_ptr().cast::<T>().cast_mut(), len: <[_]>::len(self) }
    }
}

impl<T: Copy + Send> ParSink for &ViewMut<'_, T> {
    type Part = Strided<T>;
    #[inline(always)]
    fn part(&mut self) -> Strided<T> {
        Strided { ptr: self.ptr(), len: ViewMut::len(self), stride: self.stride() }
    }
}

impl<T: Copy + Send> ParSink for Shifted<'_, '_, T> {
    type Part = Strided<T>;
    #[inline(always)]
    fn part(&mut self) -> Strided<T> {
        shifted(self)
    }
}

/// The sources of a parallel pass: a tuple of [`ParSource`]s (or `()`).
pub trait ParSources: Sources {
    /// Every source's shared form.
    type Part: Sources<Items = Self::Items, Flat: Copy + Send + Sync> + Copy + Send + Sync;
    /// See [`ParSource::part`].
    fn part(self) -> Self::Part;
}

/// The outputs of a parallel pass: a tuple of [`ParSink`]s (or `()`).
pub trait ParSinks: Sinks {
    /// Every sink's shared form.
    type Part: Sinks<Items = Self::Items, Flat: Copy + Send + Sync> + Copy + Send + Sync;
    /// See [`ParSink::part`].
    fn part(&mut self) -> Self::Part;
}

impl ParSources for () {
    type Part = ();
    #[inline(always)]
    fn part(self) {}
}

impl ParSinks for () {
    type Part = ();
    #[inline(always)]
    fn part(&mut self) {}
}

macro_rules! tuples {
    ($( ($($T:ident $i:tt),*) )*) => {$(
        impl<$($T: ParSource),*> ParSource for ($($T,)*) {
            type Part = ($($T::Part,)*);
            #[inline(always)]
            fn part(self) -> Self::Part { ($(self.$i.part(),)*) }
        }
        impl<$($T: ParSink),*> ParSink for ($($T,)*) {
            type Part = ($($T::Part,)*);
            #[inline(always)]
            fn part(&mut self) -> Self::Part { ($(self.$i.part(),)*) }
        }
        impl<$($T: ParSource),*> ParSources for ($($T,)*) {
            type Part = ($($T::Part,)*);
            #[inline(always)]
            fn part(self) -> Self::Part { ($(self.$i.part(),)*) }
        }
        impl<$($T: ParSink),*> ParSinks for ($($T,)*) {
            type Part = ($($T::Part,)*);
            #[inline(always)]
            fn part(&mut self) -> Self::Part { ($(self.$i.part(),)*) }
        }
    )*};
}

tuples! {
    (A 0)
    (A 0, B 1)
    (A 0, B 1, C 2)
    (A 0, B 1, C 2, D 3)
    (A 0, B 1, C 2, D 3, E 4)
    (A 0, B 1, C 2, D 3, E 4, F 5)
    (A 0, B 1, C 2, D 3, E 4, F 5, G 6)
    (A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7)
    (A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8)
    (A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9)
    (A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9, K 10)
    (A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9, K 10, L 11)
}

// ---- the drivers --------------------------------------------------------------------------

/// [`crate::pass::pass`] on rayon's pool, with the same result and outputs for every thread
/// count (module docs). `level` is the clone's token: each chunk runs at that level.
#[inline(always)]
pub fn pass<L, Src, R, S, B>(level: L, n: usize, sources: Src, reducers: R, sinks: S, body: B) -> R::Outputs
where
    L: Enter,
    Src: ParSources,
    R: Reducers + Sync,
    R::Accs: Send,
    S: ParSinks,
    B: Fn(Src::Items) -> (R::Items, S::Items) + Copy + Sync,
{
    pass_staged(level, n, sources, (), reducers, sinks, |_| (), move |items, ()| body(items))
}

/// [`crate::pass::pass_staged`] on rayon's pool, with the same result and outputs for every
/// thread count (module docs); each chunk evaluates its stages in its own buffers.
///
/// ```
/// use loopfuse_runtime::level::{Generic, Level};
/// use loopfuse_runtime::{math, par, pass, reduce::Sum, stage::stage};
/// let x: Vec<f64> = (0..200_000).map(|i| i as f64 * 1e-5).collect();
/// let (x, g) = (&x[..], Generic::try_new().unwrap());
/// let exp = || stage(move |a: &[f64], o: &mut [f64]| math::exp_slice_at(g, a, o));
/// let (p,) = par::pass_staged(g, x.len(), (x,), (exp(),), (Sum::new(),), (), |(x,)| (x,), |_, (e,)| ((e,), ()));
/// let (s,) = pass::pass_staged(x.len(), (x,), (exp(),), (Sum::new(),), (), |(x,)| (x,), |_, (e,)| ((e,), ()));
/// assert_eq!(p.to_bits(), s.to_bits());
/// ```
#[allow(clippy::too_many_arguments)]
#[inline(always)]
pub fn pass_staged<L, Src, M, R, S, A, B>(
    level: L,
    n: usize,
    sources: Src,
    stages: M,
    reducers: R,
    sinks: S,
    args: A,
    body: B,
) -> R::Outputs
where
    L: Enter,
    Src: ParSources,
    M: Stages + Clone + Sync,
    R: Reducers + Sync,
    R::Accs: Send,
    S: ParSinks,
    A: Fn(Src::Items) -> M::Args + Copy + Sync,
    B: Fn(Src::Items, M::Values) -> (R::Items, S::Items) + Copy + Sync,
{
    pass_staged_from(THRESHOLD, level, n, sources, stages, reducers, sinks, args, body)
}

/// [`pass_staged`] with another threshold: `benches/parallel.rs` measures the crossover
/// with it (`min_len = 0` splits any pass).
#[doc(hidden)]
#[allow(clippy::too_many_arguments)]
#[inline(always)]
pub fn pass_staged_from<L, Src, M, R, S, A, B>(
    min_len: usize,
    level: L,
    n: usize,
    sources: Src,
    stages: M,
    reducers: R,
    mut sinks: S,
    args: A,
    body: B,
) -> R::Outputs
where
    L: Enter,
    Src: ParSources,
    M: Stages + Clone + Sync,
    R: Reducers + Sync,
    R::Accs: Send,
    S: ParSinks,
    A: Fn(Src::Items) -> M::Args + Copy + Sync,
    B: Fn(Src::Items, M::Values) -> (R::Items, S::Items) + Copy + Sync,
{
    if n < min_len.max(LANES) {
        return crate::pass::pass_staged(n, sources, stages, reducers, sinks, args, body);
    }
    let threads = rayon::current_num_threads();
    if threads == 1 {
        return crate::pass::pass_staged(n, sources, stages, reducers, sinks, args, body);
    }
    check_lengths(n, &sources, &sinks);
    let (src, snk) = (sources.part(), sinks.part());
    let job = Split { n, threads, level, stages: &stages, reducers: &reducers, args: &args, body: &body };
    let out = if src.is_unit_stride() && snk.is_unit_stride() {
        // SAFETY: both are unit-stride, just checked.
        let (src, snk) = unsafe { (src.into_flat(), snk.into_flat()) };
        job.run(src, snk)
    } else {
        job.run(src, snk)
    };
    sinks.done();
    out
}

/// One parallel pass, lengths checked: what every chunk shares.
struct Split<'p, L, M, R, A, B> {
    n: usize,
    threads: usize,
    level: L,
    stages: &'p M,
    reducers: &'p R,
    args: &'p A,
    body: &'p B,
}

impl<L: Enter, M: Stages + Clone + Sync, R: Reducers + Sync, A: Sync, B: Sync> Split<'_, L, M, R, A, B>
where
    R::Accs: Send,
{
    #[inline(always)]
    fn run<Src, S>(self, src: Src, mut sinks: S) -> R::Outputs
    where
        Src: Sources + Copy + Send + Sync,
        S: Sinks + Copy + Send + Sync,
        A: Fn(Src::Items) -> M::Args + Copy,
        B: Fn(Src::Items, M::Values) -> (R::Items, S::Items) + Copy,
    {
        let (n, reducers) = (self.n, self.reducers);
        let groups_end = n - n % LANES;
        let len = chunk_blocks(groups_end.div_ceil(BLOCK), self.threads) * BLOCK;
        if R::NONE {
            (0..n.div_ceil(len)).into_par_iter().for_each(|c| {
                let (lo, hi) = (c * len, (c * len + len).min(n));
                self.level.enter(Elements { lo, hi, src, sinks, split: &self });
            });
            return reducers.finish(reducers.identity(), n);
        }
        let chunks: Vec<[R::Accs; LANES]> = (0..groups_end.div_ceil(len))
            .into_par_iter()
            .map(|c| {
                let (start, end) = (c * len, (c * len + len).min(groups_end));
                self.level.enter(Blocks { start, end, src, sinks, split: &self })
            })
            .collect();
        let merge = merge_lanes(reducers);
        let (last, full) = chunks.split_last().expect("n >= LANES: at least one chunk");
        let mut cascade = Cascade::new();
        for &c in full {
            cascade.push(c, &merge);
        }
        let acc = combine_lanes(reducers, &cascade.finish_onto(*last, &merge));
        let (mut stages, mut args, mut body) = (self.stages.clone(), *self.args, *self.body);
        let acc = tail(groups_end, n, acc, &src, &mut stages, reducers, &mut sinks, &mut args, &mut body);
        reducers.finish(acc, n)
    }
}

/// The elements `lo..hi` of a pass without reductions.
struct Elements<'p, Src, S, L, M, R, A, B> {
    lo: usize,
    hi: usize,
    src: Src,
    sinks: S,
    split: &'p Split<'p, L, M, R, A, B>,
}

impl<Src, S, L, M, R, A, B> Work for Elements<'_, Src, S, L, M, R, A, B>
where
    Src: Sources,
    S: Sinks,
    M: Stages + Clone,
    R: Reducers,
    A: Fn(Src::Items) -> M::Args + Copy,
    B: Fn(Src::Items, M::Values) -> (R::Items, S::Items) + Copy,
{
    type Output = ();
    #[inline(always)]
    fn run(self) {
        // Everything the loop reads, in locals of this chunk (see `ParSource`).
        let (src, mut sinks, mut stages) = (self.src, self.sinks, self.split.stages.clone());
        let (mut args, mut body) = (*self.split.args, *self.split.body);
        elements(self.lo, self.hi, &src, &mut stages, &mut sinks, &mut args, &mut body);
    }
}

/// The blocks of lane groups `start..end` of a pass with reductions: their cascade's value.
struct Blocks<'p, Src, S, L, M, R, A, B> {
    start: usize,
    end: usize,
    src: Src,
    sinks: S,
    split: &'p Split<'p, L, M, R, A, B>,
}

impl<Src, S, L, M, R, A, B> Work for Blocks<'_, Src, S, L, M, R, A, B>
where
    Src: Sources,
    S: Sinks,
    M: Stages + Clone,
    R: Reducers,
    A: Fn(Src::Items) -> M::Args + Copy,
    B: Fn(Src::Items, M::Values) -> (R::Items, S::Items) + Copy,
{
    type Output = [R::Accs; LANES];
    #[inline(always)]
    fn run(self) -> [R::Accs; LANES] {
        // Everything the loop reads, in locals of this chunk (see `ParSource`).
        let (split, src, mut sinks) = (self.split, self.src, self.sinks);
        let (mut stages, mut args, mut body) = (split.stages.clone(), *split.args, *split.body);
        let mut cascade = Cascade::new();
        let reducers = split.reducers;
        blocks(self.start, self.end, &src, &mut stages, reducers, &mut sinks, &mut args, &mut body, &mut cascade);
        cascade.finish([reducers.identity(); LANES], merge_lanes(reducers))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::level::Generic;
    use crate::reduce::*;

    fn data(n: usize) -> Vec<f64> {
        let mut s = 0x9E37_79B9_7F4A_7C15u64;
        (0..n)
            .map(|_| {
                s ^= s << 13;
                s ^= s >> 7;
                s ^= s << 17;
                (s >> 11) as f64 / (1u64 << 53) as f64 * 8.0 - 4.0
            })
            .collect()
    }

    #[test]
    fn chunks_are_powers_of_two_blocks() {
        for blocks in [0, 1, 31, 32, 33, 1000, 5000, 1 << 20] {
            for threads in [1, 2, 3, 7, 16] {
                let k = chunk_blocks(blocks, threads);
                assert!(k.is_power_of_two() && (MIN_CHUNK_BLOCKS..=MAX_CHUNK_BLOCKS).contains(&k));
            }
        }
    }

    #[test]
    fn every_thread_count_gives_the_serial_bits() {
        let g = Generic::try_new().unwrap();
        for n in [THRESHOLD, THRESHOLD + 1, 32 * BLOCK - 1, 32 * BLOCK + 33, 600_017] {
            let x = &data(n)[..];
            let serial = crate::pass::pass(n, (x,), (Sum::new(), ArgMax::new()), (), |(x,)| ((x * 1.5, x), ()));
            for threads in [1, 2, 3, 4, 7, 16] {
                let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
                let mut y = OutBuf::new(n);
                let par = pool.install(|| {
                    pass(g, n, (x,), (Sum::new(), ArgMax::new()), (&mut y,), |(x,)| ((x * 1.5, x), (x * 2.0,)))
                });
                assert_eq!((serial.0.to_bits(), serial.1), (par.0.to_bits(), par.1), "n = {n}, {threads} threads");
                assert!(y.into_vec().iter().zip(x).all(|(y, x)| *y == x * 2.0));
            }
        }
    }

    #[test]
    fn finish_onto_is_push_then_finish() {
        let add = |a: f64, b: f64| a + b;
        for blocks in 1..40usize {
            let v: Vec<f64> = data(blocks).iter().map(|x| x * 1e10).collect();
            let mut whole = Cascade::new();
            v.iter().for_each(|&b| whole.push(b, add));
            let mut part = Cascade::new();
            v[..blocks - 1].iter().for_each(|&b| part.push(b, add));
            assert_eq!(whole.finish(0.0, add).to_bits(), part.finish_onto(v[blocks - 1], add).to_bits());
        }
    }
}
