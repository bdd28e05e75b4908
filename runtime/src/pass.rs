//! The pass driver: one loop over `n` elements that feeds every reduction of the pass and
//! writes every output of the pass.
//!
//! # Reduction order (the determinism contract)
//! The order depends on `n` alone, never on the CPU level or the thread count:
//! - the input is cut into blocks of [`BLOCK`] elements;
//! - inside a block, element `i` goes to lane `i % LANES` ([`LANES`] = 16) for the full
//!   groups of 16; the lanes are combined by a fixed pairwise tree (lane `j` with `j + 8`,
//!   then `+4`, `+2`, `+1`); the block's last `< 16` elements are then added one by one;
//! - block results are combined pairwise by a binary counter over the block index
//!   ([`Cascade`]), so rounding error grows like `log n`, and a parallel split on
//!   power-of-two block boundaries computes the same tree.
//!
//! The 16 lanes are independent accumulators: LLVM keeps them in vector registers (two zmm,
//! four ymm or eight xmm), which is what makes a float reduction vectorize without changing
//! its result between clones.

use crate::reduce::Reducer;

/// Elements per block.
pub const BLOCK: usize = 2048;
/// Lane accumulators per block.
pub const LANES: usize = 16;

/// The reductions of one pass: a tuple of [`Reducer`]s (or `()`).
pub trait Reducers {
    /// True for `()`: the pass only writes outputs.
    const NONE: bool;
    /// What the body yields per element: a tuple of each reducer's item.
    type Items;
    /// A tuple of partial results.
    type Accs: Copy;
    /// A tuple of final values.
    type Outputs;
    /// Partial results of no elements.
    fn identity(&self) -> Self::Accs;
    /// Adds element `index`.
    fn update(&self, acc: &mut Self::Accs, items: Self::Items, index: usize);
    /// Combines an earlier and a later partial result.
    fn merge(&self, left: Self::Accs, right: Self::Accs) -> Self::Accs;
    /// Final values over `n` elements.
    fn finish(&self, acc: Self::Accs, n: usize) -> Self::Outputs;
}

/// One output of a pass.
pub trait Sink {
    /// The element written.
    type Item;
    /// How many elements the sink holds.
    fn len(&self) -> usize;
    /// `true` when the sink holds no element.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// Writes element `i`.
    ///
    /// # Safety
    /// `i < self.len()`.
    unsafe fn put(&mut self, i: usize, value: Self::Item);
    /// Called once every index in `0..n` has been written.
    fn done(&mut self) {}
}

impl<T> Sink for &mut crate::output::OutBuf<T> {
    type Item = T;
    #[inline(always)]
    fn len(&self) -> usize {
        crate::output::OutBuf::len(self)
    }
    #[inline(always)]
    unsafe fn put(&mut self, i: usize, value: T) {
        // SAFETY: forwarded contract, i < len.
        unsafe { self.write(i, value) }
    }
    fn done(&mut self) {
        self.mark_written();
    }
}

impl<T: Copy> Sink for &[std::cell::Cell<T>] {
    type Item = T;
    #[inline(always)]
    fn len(&self) -> usize {
        <[_]>::len(self)
    }
    #[inline(always)]
    unsafe fn put(&mut self, i: usize, value: T) {
        // SAFETY: forwarded contract, i < len.
        unsafe { self.get_unchecked(i) }.set(value)
    }
}

/// The outputs of one pass: a tuple of [`Sink`]s (or `()`).
pub trait Sinks {
    /// A tuple of each sink's item.
    type Items;
    /// The smallest sink length (`usize::MAX` for none).
    fn min_len(&self) -> usize;
    /// Writes element `i` of every sink.
    ///
    /// # Safety
    /// `i < self.min_len()`.
    unsafe fn put(&mut self, i: usize, values: Self::Items);
    /// Marks every sink written.
    fn done(&mut self);
}

macro_rules! tuples {
    ($( ($($T:ident $i:tt),*) )*) => {$(
        impl<$($T: Reducer),*> Reducers for ($($T,)*) {
            const NONE: bool = false;
            type Items = ($($T::Item,)*);
            type Accs = ($($T::Acc,)*);
            type Outputs = ($($T::Output,)*);
            #[inline(always)]
            fn identity(&self) -> Self::Accs { ($(self.$i.identity(),)*) }
            #[inline(always)]
            fn update(&self, acc: &mut Self::Accs, items: Self::Items, index: usize) {
                $( acc.$i = self.$i.update(acc.$i, items.$i, index); )*
            }
            #[inline(always)]
            fn merge(&self, l: Self::Accs, r: Self::Accs) -> Self::Accs {
                ($(self.$i.merge(l.$i, r.$i),)*)
            }
            #[inline(always)]
            fn finish(&self, acc: Self::Accs, n: usize) -> Self::Outputs {
                ($(self.$i.finish(acc.$i, n),)*)
            }
        }
        impl<$($T: Sink),*> Sinks for ($($T,)*) {
            type Items = ($($T::Item,)*);
            #[inline(always)]
            fn min_len(&self) -> usize {
                let mut m = usize::MAX;
                $( m = m.min(self.$i.len()); )*
                m
            }
            #[inline(always)]
            unsafe fn put(&mut self, i: usize, values: Self::Items) {
                // SAFETY: forwarded contract, i < min_len <= each sink's len.
                $( unsafe { self.$i.put(i, values.$i) }; )*
            }
            fn done(&mut self) { $( self.$i.done(); )* }
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

impl Reducers for () {
    const NONE: bool = true;
    type Items = ();
    type Accs = ();
    type Outputs = ();
    #[inline(always)]
    fn identity(&self) {}
    #[inline(always)]
    fn update(&self, _: &mut (), _: (), _: usize) {}
    #[inline(always)]
    fn merge(&self, _: (), _: ()) {}
    #[inline(always)]
    fn finish(&self, _: (), _: usize) {}
}

impl Sinks for () {
    type Items = ();
    #[inline(always)]
    fn min_len(&self) -> usize {
        usize::MAX
    }
    #[inline(always)]
    unsafe fn put(&mut self, _: usize, _: ()) {}
    fn done(&mut self) {}
}

/// Pairwise combination of block results by a binary counter over the block index: level
/// `k` holds the result of `2^k` consecutive blocks.
pub struct Cascade<A> {
    levels: [Option<A>; usize::BITS as usize],
}

impl<A: Copy> Cascade<A> {
    /// No blocks yet.
    #[inline(always)]
    pub fn new() -> Self {
        Cascade { levels: [None; usize::BITS as usize] }
    }

    /// Adds the next block's result.
    #[inline(always)]
    pub fn push(&mut self, mut acc: A, merge: impl Fn(A, A) -> A) {
        let mut k = 0;
        while let Some(earlier) = self.levels[k].take() {
            acc = merge(earlier, acc);
            k += 1;
        }
        self.levels[k] = Some(acc);
    }

    /// The result of every block pushed, `identity` for none.
    #[inline(always)]
    pub fn finish(self, identity: A, merge: impl Fn(A, A) -> A) -> A {
        let mut total: Option<A> = None;
        for earlier in self.levels.into_iter().flatten() {
            total = Some(match total {
                None => earlier,
                Some(later) => merge(earlier, later),
            });
        }
        total.unwrap_or(identity)
    }
}

impl<A: Copy> Default for Cascade<A> {
    fn default() -> Self {
        Self::new()
    }
}

#[inline(always)]
fn check_sinks<S: Sinks>(n: usize, sinks: &S) {
    assert!(sinks.min_len() >= n, "loopfuse: an output has {} elements, the pass needs {n}", sinks.min_len());
}

/// Runs one pass over `0..n` in the deterministic lane/block order (module docs): `body(i)`
/// yields element `i`'s reduction items and output values.
///
/// ```
/// use loopfuse_runtime::pass::pass;
/// use loopfuse_runtime::reduce::{Max, Sum};
/// let x = [1.0, -4.0, 2.5];
/// let (s, m) = pass(x.len(), (Sum::new(), Max::new()), (), |i| ((x[i], x[i]), ()));
/// assert_eq!((s, m), (-0.5, 2.5));
/// ```
#[inline(always)]
pub fn pass<R: Reducers, S: Sinks>(
    n: usize,
    reducers: R,
    mut sinks: S,
    mut body: impl FnMut(usize) -> (R::Items, S::Items),
) -> R::Outputs {
    check_sinks(n, &sinks);
    if R::NONE {
        for i in 0..n {
            let (_, values) = body(i);
            // SAFETY: i < n <= sinks.min_len() (checked above).
            unsafe { sinks.put(i, values) };
        }
        sinks.done();
        return reducers.finish(reducers.identity(), n);
    }
    let merge = |l, r| reducers.merge(l, r);
    let mut cascade = Cascade::new();
    let mut start = 0;
    while start < n {
        let end = start + (n - start).min(BLOCK);
        let mut lanes = [reducers.identity(); LANES];
        let mut i = start;
        while end - i >= LANES {
            for (j, lane) in lanes.iter_mut().enumerate() {
                let (items, values) = body(i + j);
                reducers.update(lane, items, i + j);
                // SAFETY: i + j < i + LANES <= end <= n <= sinks.min_len().
                unsafe { sinks.put(i + j, values) };
            }
            i += LANES;
        }
        let mut width = LANES / 2;
        while width > 0 {
            for j in 0..width {
                lanes[j] = reducers.merge(lanes[j], lanes[j + width]);
            }
            width /= 2;
        }
        let mut acc = lanes[0];
        while i < end {
            let (items, values) = body(i);
            reducers.update(&mut acc, items, i);
            // SAFETY: i < end <= n <= sinks.min_len().
            unsafe { sinks.put(i, values) };
            i += 1;
        }
        cascade.push(acc, merge);
        start = end;
    }
    sinks.done();
    reducers.finish(cascade.finish(reducers.identity(), merge), n)
}

/// Runs one pass in exact source order (`#[kernel(strict)]`): one accumulator per
/// reduction, updated element by element, as the naive scalar loop would.
///
/// ```
/// use loopfuse_runtime::pass::pass_strict;
/// use loopfuse_runtime::reduce::Sum;
/// let x = [0.1, 0.2, 0.3];
/// let (s,) = pass_strict(3, (Sum::new(),), (), |i| ((x[i],), ()));
/// assert_eq!(s, (0.0 + 0.1) + 0.2 + 0.3);
/// ```
#[inline(always)]
pub fn pass_strict<R: Reducers, S: Sinks>(
    n: usize,
    reducers: R,
    mut sinks: S,
    mut body: impl FnMut(usize) -> (R::Items, S::Items),
) -> R::Outputs {
    check_sinks(n, &sinks);
    let mut acc = reducers.identity();
    for i in 0..n {
        let (items, values) = body(i);
        reducers.update(&mut acc, items, i);
        // SAFETY: i < n <= sinks.min_len() (checked above).
        unsafe { sinks.put(i, values) };
    }
    sinks.done();
    reducers.finish(acc, n)
}
