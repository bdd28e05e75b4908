//! The pass driver: one loop over `n` elements that feeds every reduction of the pass and
//! writes every output of the pass.
//!
//! # Reduction order (the determinism contract)
//! The order depends on `n` alone, never on the CPU level or the thread count:
//! - element `i < n - n % 32` goes to lane `i % 32` of [`LANES`] = 32 lane accumulators;
//! - the lanes restart at every block of [`BLOCK`] elements, and the blocks' 32-lane results
//!   are combined lane by lane, pairwise, by a binary counter over the block index
//!   ([`Cascade`]): rounding error grows like `log n` as in NumPy's pairwise sum, and a
//!   parallel split on power-of-two block boundaries computes the same tree;
//! - the 32 lanes are then combined by a fixed pairwise tree (lane `j` with `j + 16`, then
//!   `+8`, `+4`, `+2`, `+1`);
//! - the last `n % 32` elements are added one by one, in order.
//!
//! The lanes are independent accumulators: LLVM keeps them in vector registers, which is
//! what makes a float reduction vectorize without changing its result between clones. 32
//! (not 16) lanes give an f64 sum four independent zmm chains (eight ymm, sixteen xmm): with
//! 16, the AVX-512 clone was bound by the add latency of two chains. Combining lanes only
//! once, at the end, keeps the per-block work to one vectorized lane-wise merge.
//!
//! NaN payloads are not part of the contract: when two NaNs meet, which payload survives can
//! differ between clones (the hardware returns the first operand's, and LLVM may commute).
//!
//! # More than 12 reductions, sources or sinks: nest them
//! [`Reducers`], [`Sources`] and [`Sinks`] are implemented for tuples of up to 12 elements,
//! and a tuple of up to 12 [`Reducer`]s is itself a [`Reducer`] (likewise a tuple of
//! [`Source`]s is a [`Source`], of [`Sink`]s a [`Sink`]; a tuple of [`Stages`] is a
//! [`Stages`]). So the code generator cuts a longer list into groups of at most 12, in
//! order, and passes the tuple of groups: 14 reductions are `((r0, .., r11), (r12, r13))`,
//! 200 would be two levels deep. The items, values and results nest exactly the same way:
//! the body returns `((i0, .., i11), (i12, i13))` and the pass returns
//! `((v0, .., v11), (v12, v13))`; the sources' elements arrive as `((x0, .., x11), (x12,))`.
//! A nested reduction computes the same bits as the flat one: each reducer sees the same
//! elements in the same order, nesting only groups the accumulators.
//!
//! ```
//! use loopfuse_runtime::pass::pass;
//! use loopfuse_runtime::reduce::{Max, Sum};
//! let x: &[f64] = &[1.0, -4.0, 2.5];
//! let ((s, m), (t,)) = pass(3, ((x,), (x,)), ((Sum::new(), Max::new()), (Sum::new(),)), (), |((a,), (b,))| (((a, a), (b,)), ()));
//! assert_eq!((s, m, t), (-0.5, 2.5, -0.5));
//! ```

use crate::align::Aligned;
use crate::reduce::Reducer;
use crate::stage::{Stages, CHUNK};
use crate::view::{Shifted, View, ViewMut};
use std::marker::PhantomData;
use std::mem::MaybeUninit;

/// Elements per block.
pub const BLOCK: usize = 2048;
/// Lane accumulators per block.
pub const LANES: usize = 32;

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
    /// The same sink as a unit-stride one ([`Sink::into_flat`]): what the contiguous loop
    /// writes through. Itself for sinks that are always contiguous.
    type Flat: Sink<Item = Self::Item>;
    /// How many elements the sink holds.
    fn len(&self) -> usize;
    /// `true` when the sink holds no element.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// `true` when element `i` is `i` elements past element 0 (checked once per pass).
    fn is_unit_stride(&self) -> bool;
    /// The unit-stride form.
    ///
    /// # Safety
    /// `self.is_unit_stride()`.
    unsafe fn into_flat(self) -> Self::Flat;
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
    type Flat = Self;
    #[inline(always)]
    fn len(&self) -> usize {
        crate::output::OutBuf::len(self)
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
        // SAFETY: forwarded contract, i < len.
        unsafe { self.write(i, value) }
    }
    fn done(&mut self) {
        self.mark_written();
    }
}

/// A returned selection: the element and whether the mask keeps it; kept ones are written
/// one after the other (a serial pass calls `put` in index order).
impl<T> Sink for &mut crate::output::Compact<T> {
    type Item = (bool, T);
    type Flat = Self;
    #[inline(always)]
    fn len(&self) -> usize {
        self.offered()
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
    unsafe fn put(&mut self, _: usize, (kept, value): (bool, T)) {
        if kept {
            self.keep(value);
        }
    }
    fn done(&mut self) {
        self.finish();
    }
}

impl<T: Copy> Sink for &[std::cell::Cell<T>] {
    type Item = T;
    type Flat = Self;
    #[inline(always)]
    fn len(&self) -> usize {
        <[_]>::len(self)
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
        // SAFETY: forwarded contract, i < len.
        unsafe { self.get_unchecked(i) }.set(value)
    }
}

/// An output view written in place, any stride ([`crate::view`]).
impl<'v, T: Copy> Sink for &'v ViewMut<'_, T> {
    type Item = T;
    type Flat = UnitMut<'v, T>;
    #[inline(always)]
    fn len(&self) -> usize {
        ViewMut::len(self)
    }
    #[inline(always)]
    fn is_unit_stride(&self) -> bool {
        self.is_contiguous()
    }
    #[inline(always)]
    unsafe fn into_flat(self) -> UnitMut<'v, T> {
        UnitMut { ptr: self.ptr(), len: ViewMut::len(self), life: PhantomData }
    }
    #[inline(always)]
    unsafe fn put(&mut self, i: usize, value: T) {
        // SAFETY: i < len (forwarded contract): element i is valid for writes through the
        // view's raw pointer, and no reference to it exists (crate::view module docs).
        unsafe { self.at(i).write(value) }
    }
}

/// Elements of an output an explicit loop writes as `out[i]` while the same pass may read
/// them ([`ViewMut::shifted`]): written through the view's raw pointer, as `&ViewMut` is.
impl<'v, T: Copy> Sink for Shifted<'v, '_, T> {
    type Item = T;
    type Flat = UnitMut<'v, T>;
    #[inline(always)]
    fn len(&self) -> usize {
        self.len
    }
    #[inline(always)]
    fn is_unit_stride(&self) -> bool {
        self.view.is_contiguous()
    }
    #[inline(always)]
    unsafe fn into_flat(self) -> UnitMut<'v, T> {
        // SAFETY: forwarded contract (unit stride); first < first + len <= the view's len.
        let ptr = if self.len == 0 { self.view.ptr() } else { unsafe { self.view.at(self.first) } };
        UnitMut { ptr, len: self.len, life: PhantomData }
    }
    #[inline(always)]
    unsafe fn put(&mut self, i: usize, value: T) {
        // SAFETY: i < len (forwarded contract), so first + i < the view's len; a write through
        // the view's raw pointer, no reference to the element (crate::view module docs).
        unsafe { self.view.at(self.first + i).write(value) }
    }
}

/// A contiguous [`ViewMut`] as the unit-stride loop reads ([`Current`]) and writes it:
/// element `i` at `ptr + i`. Made only by `into_flat` of a unit-stride view.
pub struct UnitMut<'v, T> {
    ptr: *mut T,
    len: usize,
    life: PhantomData<&'v ViewMut<'v, T>>,
}

impl<T: Copy> Sink for UnitMut<'_, T> {
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
        // SAFETY: i < len (forwarded contract) and the view is unit-stride (`into_flat`'s
        // contract), so ptr + i is its element i, valid for writes through this pointer.
        unsafe { self.ptr.add(i).write(value) }
    }
}

impl<T: Copy> Source for UnitMut<'_, T> {
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
        // SAFETY: as `put`: element i, read through the raw pointer.
        unsafe { self.ptr.add(i).read() }
    }
}

/// One array read by a pass: element `i` of a slice or a view, or the current value of an
/// output.
pub trait Source {
    /// The element.
    type Item;
    /// The same source as a unit-stride one ([`Source::into_flat`]): what the contiguous
    /// loop reads (a slice for a contiguous [`View`]). Itself for sources that are always
    /// contiguous, so that a pass over slices compiles to one loop only.
    type Flat: Source<Item = Self::Item>;
    /// How many elements there are.
    fn len(&self) -> usize;
    /// `true` when there is no element.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// `true` when element `i` is `i` elements past element 0 (checked once per pass).
    fn is_unit_stride(&self) -> bool;
    /// The unit-stride form.
    ///
    /// # Safety
    /// `self.is_unit_stride()`.
    unsafe fn into_flat(self) -> Self::Flat;
    /// Element `i`.
    ///
    /// # Safety
    /// `i < self.len()`.
    unsafe fn get(&self, i: usize) -> Self::Item;
}

impl<T: Copy> Source for &[T] {
    type Item = T;
    type Flat = Self;
    #[inline(always)]
    fn len(&self) -> usize {
        <[T]>::len(self)
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
        // SAFETY: forwarded contract, i < len.
        unsafe { *self.get_unchecked(i) }
    }
}

/// An input view, any stride ([`crate::view`]).
impl<'a, T: Copy> Source for View<'a, T> {
    type Item = T;
    type Flat = &'a [T];
    #[inline(always)]
    fn len(&self) -> usize {
        View::len(self)
    }
    #[inline(always)]
    fn is_unit_stride(&self) -> bool {
        self.is_contiguous()
    }
    #[inline(always)]
    unsafe fn into_flat(self) -> &'a [T] {
        // SAFETY: unit stride (caller), so as_slice is Some; unwrap_unchecked avoids a
        // panic path in the pass.
        unsafe { self.as_slice().unwrap_unchecked() }
    }
    #[inline(always)]
    unsafe fn get(&self, i: usize) -> T {
        // SAFETY: forwarded contract, i < len.
        unsafe { *self.get_unchecked(i) }
    }
}

/// The loop index of an explicit loop: element `i` of the pass is `start + i`.
#[derive(Clone, Copy)]
pub struct Indices(pub usize);

impl Source for Indices {
    type Item = usize;
    type Flat = Self;
    #[inline(always)]
    fn len(&self) -> usize {
        usize::MAX
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
    unsafe fn get(&self, i: usize) -> usize {
        self.0 + i
    }
}

/// The current elements of an output (`y += x` reads `y`): `Current(cells)` for the slice
/// API, `Current(&view)` for a [`ViewMut`] that the same pass also writes as a sink.
pub struct Current<C>(pub C);

impl<T: Copy> Source for Current<&[std::cell::Cell<T>]> {
    type Item = T;
    type Flat = Self;
    #[inline(always)]
    fn len(&self) -> usize {
        self.0.len()
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
        // SAFETY: forwarded contract, i < len.
        unsafe { self.0.get_unchecked(i) }.get()
    }
}

impl<'v, T: Copy> Source for Current<&'v ViewMut<'_, T>> {
    type Item = T;
    type Flat = UnitMut<'v, T>;
    #[inline(always)]
    fn len(&self) -> usize {
        self.0.len()
    }
    #[inline(always)]
    fn is_unit_stride(&self) -> bool {
        self.0.is_contiguous()
    }
    #[inline(always)]
    unsafe fn into_flat(self) -> UnitMut<'v, T> {
        UnitMut { ptr: self.0.ptr(), len: self.0.len(), life: PhantomData }
    }
    #[inline(always)]
    unsafe fn get(&self, i: usize) -> T {
        // SAFETY: i < len (forwarded contract); a read through the view's raw pointer, no
        // reference to the element (crate::view module docs).
        unsafe { self.0.at(i).read() }
    }
}

impl<'v, T: Copy> Source for Current<Shifted<'v, '_, T>> {
    type Item = T;
    type Flat = UnitMut<'v, T>;
    #[inline(always)]
    fn len(&self) -> usize {
        self.0.len
    }
    #[inline(always)]
    fn is_unit_stride(&self) -> bool {
        self.0.view.is_contiguous()
    }
    #[inline(always)]
    unsafe fn into_flat(self) -> UnitMut<'v, T> {
        let ptr = if self.0.len == 0 {
            self.0.view.ptr()
        } else {
            // SAFETY: first < first + len <= the view's len (Shifted's invariant).
            unsafe { self.0.view.at(self.0.first) }
        };
        UnitMut { ptr, len: self.0.len, life: PhantomData }
    }
    #[inline(always)]
    unsafe fn get(&self, i: usize) -> T {
        // SAFETY: i < len (forwarded contract), so first + i < the view's len; a read through
        // the view's raw pointer, no reference to the element (crate::view module docs).
        unsafe { self.0.view.at(self.0.first + i).read() }
    }
}

/// The arrays a pass reads: a tuple of [`Source`]s (or `()`). The driver loads element `i`
/// of each and hands the values to the loop body, so the body has no index to check.
pub trait Sources {
    /// A tuple of each source's element.
    type Items;
    /// A tuple of each source's [`Source::Flat`].
    type Flat: Sources<Items = Self::Items>;
    /// The smallest source length (`usize::MAX` for none).
    fn min_len(&self) -> usize;
    /// `true` when every source is unit-stride.
    fn is_unit_stride(&self) -> bool;
    /// Every source in its unit-stride form.
    ///
    /// # Safety
    /// `self.is_unit_stride()`.
    unsafe fn into_flat(self) -> Self::Flat;
    /// Element `i` of every source.
    ///
    /// # Safety
    /// `i < self.min_len()`.
    unsafe fn get(&self, i: usize) -> Self::Items;
}

/// The outputs of one pass: a tuple of [`Sink`]s (or `()`).
pub trait Sinks {
    /// A tuple of each sink's item.
    type Items;
    /// A tuple of each sink's [`Sink::Flat`].
    type Flat: Sinks<Items = Self::Items>;
    /// The smallest sink length (`usize::MAX` for none).
    fn min_len(&self) -> usize;
    /// `true` when every sink is unit-stride.
    fn is_unit_stride(&self) -> bool;
    /// Every sink in its unit-stride form.
    ///
    /// # Safety
    /// `self.is_unit_stride()`.
    unsafe fn into_flat(self) -> Self::Flat;
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
        // A group of reducers is one reducer (module docs: nesting past 12).
        impl<$($T: Reducer),*> Reducer for ($($T,)*) {
            type Item = ($($T::Item,)*);
            type Acc = ($($T::Acc,)*);
            type Output = ($($T::Output,)*);
            #[inline(always)]
            fn identity(&self) -> Self::Acc { ($(self.$i.identity(),)*) }
            #[inline(always)]
            fn update(&self, acc: Self::Acc, item: Self::Item, index: usize) -> Self::Acc {
                ($(self.$i.update(acc.$i, item.$i, index),)*)
            }
            #[inline(always)]
            fn merge(&self, l: Self::Acc, r: Self::Acc) -> Self::Acc {
                ($(self.$i.merge(l.$i, r.$i),)*)
            }
            #[inline(always)]
            fn finish(&self, acc: Self::Acc, n: usize) -> Self::Output {
                ($(self.$i.finish(acc.$i, n),)*)
            }
        }
        // A group of sinks is one sink.
        impl<$($T: Sink),*> Sink for ($($T,)*) {
            type Item = ($($T::Item,)*);
            type Flat = ($($T::Flat,)*);
            #[inline(always)]
            fn len(&self) -> usize {
                let mut m = usize::MAX;
                $( m = m.min(self.$i.len()); )*
                m
            }
            #[inline(always)]
            fn is_unit_stride(&self) -> bool { $( self.$i.is_unit_stride() && )* true }
            #[inline(always)]
            unsafe fn into_flat(self) -> Self::Flat {
                // SAFETY: forwarded contract: every element is unit-stride.
                ($( unsafe { self.$i.into_flat() }, )*)
            }
            #[inline(always)]
            unsafe fn put(&mut self, i: usize, values: Self::Item) {
                // SAFETY: forwarded contract, i < len <= each sink's len.
                $( unsafe { self.$i.put(i, values.$i) }; )*
            }
            fn done(&mut self) { $( self.$i.done(); )* }
        }
        // A group of sources is one source.
        impl<$($T: Source),*> Source for ($($T,)*) {
            type Item = ($($T::Item,)*);
            type Flat = ($($T::Flat,)*);
            #[inline(always)]
            fn len(&self) -> usize {
                let mut m = usize::MAX;
                $( m = m.min(self.$i.len()); )*
                m
            }
            #[inline(always)]
            fn is_unit_stride(&self) -> bool { $( self.$i.is_unit_stride() && )* true }
            #[inline(always)]
            unsafe fn into_flat(self) -> Self::Flat {
                // SAFETY: forwarded contract: every element is unit-stride.
                ($( unsafe { self.$i.into_flat() }, )*)
            }
            #[inline(always)]
            unsafe fn get(&self, i: usize) -> Self::Item {
                // SAFETY: forwarded contract, i < len <= each source's len.
                ($( unsafe { self.$i.get(i) }, )*)
            }
        }
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
            type Flat = ($($T::Flat,)*);
            #[inline(always)]
            fn min_len(&self) -> usize {
                let mut m = usize::MAX;
                $( m = m.min(self.$i.len()); )*
                m
            }
            #[inline(always)]
            fn is_unit_stride(&self) -> bool { $( self.$i.is_unit_stride() && )* true }
            #[inline(always)]
            unsafe fn into_flat(self) -> Self::Flat {
                // SAFETY: forwarded contract: every sink is unit-stride.
                ($( unsafe { self.$i.into_flat() }, )*)
            }
            #[inline(always)]
            unsafe fn put(&mut self, i: usize, values: Self::Items) {
                // SAFETY: forwarded contract, i < min_len <= each sink's len.
                $( unsafe { self.$i.put(i, values.$i) }; )*
            }
            fn done(&mut self) { $( self.$i.done(); )* }
        }
        impl<$($T: Source),*> Sources for ($($T,)*) {
            type Items = ($($T::Item,)*);
            type Flat = ($($T::Flat,)*);
            #[inline(always)]
            fn min_len(&self) -> usize {
                let mut m = usize::MAX;
                $( m = m.min(self.$i.len()); )*
                m
            }
            #[inline(always)]
            fn is_unit_stride(&self) -> bool { $( self.$i.is_unit_stride() && )* true }
            #[inline(always)]
            unsafe fn into_flat(self) -> Self::Flat {
                // SAFETY: forwarded contract: every source is unit-stride.
                ($( unsafe { self.$i.into_flat() }, )*)
            }
            #[inline(always)]
            unsafe fn get(&self, i: usize) -> Self::Items {
                // SAFETY: forwarded contract, i < min_len <= each source's len.
                ($( unsafe { self.$i.get(i) }, )*)
            }
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

/// The same reducers, borrowed: the N-d drivers run one 1-D pass per row with them.
impl<R: Reducers> Reducers for &R {
    const NONE: bool = R::NONE;
    type Items = R::Items;
    type Accs = R::Accs;
    type Outputs = R::Outputs;
    #[inline(always)]
    fn identity(&self) -> R::Accs {
        (**self).identity()
    }
    #[inline(always)]
    fn update(&self, acc: &mut R::Accs, items: R::Items, index: usize) {
        (**self).update(acc, items, index)
    }
    #[inline(always)]
    fn merge(&self, l: R::Accs, r: R::Accs) -> R::Accs {
        (**self).merge(l, r)
    }
    #[inline(always)]
    fn finish(&self, acc: R::Accs, n: usize) -> R::Outputs {
        (**self).finish(acc, n)
    }
}

impl Sources for () {
    type Items = ();
    type Flat = ();
    #[inline(always)]
    fn min_len(&self) -> usize {
        usize::MAX
    }
    #[inline(always)]
    fn is_unit_stride(&self) -> bool {
        true
    }
    #[inline(always)]
    unsafe fn into_flat(self) {}
    #[inline(always)]
    unsafe fn get(&self, _: usize) {}
}

impl Sinks for () {
    type Items = ();
    type Flat = ();
    #[inline(always)]
    fn min_len(&self) -> usize {
        usize::MAX
    }
    #[inline(always)]
    fn is_unit_stride(&self) -> bool {
        true
    }
    #[inline(always)]
    unsafe fn into_flat(self) {}
    #[inline(always)]
    unsafe fn put(&mut self, _: usize, _: ()) {}
    fn done(&mut self) {}
}

/// Pairwise combination of block results by a binary counter over the block index: level
/// `k` holds the result of `2^k` consecutive blocks, and bit `k` of `blocks` says whether
/// level `k` is occupied. Each level is 64-byte aligned: it holds a block's lane
/// accumulators, loaded and stored a vector at a time.
pub struct Cascade<A> {
    levels: [Aligned<MaybeUninit<A>>; LEVELS],
    blocks: usize,
}

/// Levels of the cascade: 2^40 blocks of 2048 elements is far more than memory can hold.
const LEVELS: usize = 40;

impl<A: Copy> Cascade<A> {
    /// No blocks yet.
    #[inline(always)]
    pub fn new() -> Self {
        Cascade { levels: [const { Aligned(MaybeUninit::uninit()) }; LEVELS], blocks: 0 }
    }

    /// Adds the next block's result.
    #[inline(always)]
    pub fn push(&mut self, mut acc: A, merge: impl Fn(A, A) -> A) {
        let mut k = 0;
        while self.blocks & (1 << k) != 0 {
            // SAFETY: bit k of `blocks` is set only after level k was written.
            acc = merge(unsafe { self.levels[k].assume_init() }, acc);
            k += 1;
        }
        self.levels[k].write(acc);
        self.blocks += 1;
    }

    /// The result of every block pushed, `identity` for none.
    #[inline(always)]
    pub fn finish(&self, identity: A, merge: impl Fn(A, A) -> A) -> A {
        // Only the occupied levels, lowest (latest blocks) first.
        let mut bits = self.blocks;
        let mut total: Option<A> = None;
        while bits != 0 {
            let k = bits.trailing_zeros() as usize;
            bits &= bits - 1;
            // SAFETY: bit k of `blocks` is set only after level k was written.
            let earlier = unsafe { self.levels[k].assume_init() };
            total = Some(match total {
                None => earlier,
                Some(later) => merge(earlier, later),
            });
        }
        total.unwrap_or(identity)
    }

    /// The result of every block pushed followed by `later`, the result of the blocks after
    /// them when those are fewer than the lowest occupied level holds: what the cascade
    /// would finish with had those blocks been pushed one by one. The parallel driver
    /// ([`crate::par`]) pushes whole chunks of `2^k` blocks and ends with the last, shorter
    /// chunk's own result.
    #[inline(always)]
    pub fn finish_onto(&self, later: A, merge: impl Fn(A, A) -> A) -> A {
        let mut bits = self.blocks;
        let mut total = later;
        while bits != 0 {
            let k = bits.trailing_zeros() as usize;
            bits &= bits - 1;
            // SAFETY: bit k of `blocks` is set only after level k was written.
            total = merge(unsafe { self.levels[k].assume_init() }, total);
        }
        total
    }
}

impl<A: Copy> Default for Cascade<A> {
    fn default() -> Self {
        Self::new()
    }
}

/// The fixed pairwise tree over the lanes: lane `j` with `j + 16`, then `+8`, `+4`, `+2`, `+1`.
///
/// Out of line on purpose: inlined, this tree leads LLVM's SLP vectorizer to pack the lane
/// accumulators two by two (xmm) even in the AVX-512 clone; out of line, the hot loop keeps
/// them in full-width registers. It runs once per pass (once per row of an N-d axis
/// reduction). One out-of-line copy also keeps a NaN sum's bits the same at every level:
/// inlined, each clone's vectorized tree ordered the operands of its adds its own way, and
/// the NaN's payload and sign followed (`tests/levels.rs`).
#[inline(never)]
pub(crate) fn combine_lanes<R: Reducers>(reducers: &R, lanes: &[R::Accs; LANES]) -> R::Accs {
    let mut lanes = Aligned(*lanes);
    let mut width = LANES / 2;
    while width > 0 {
        for j in 0..width {
            lanes[j] = reducers.merge(lanes[j], lanes[j + width]);
        }
        width /= 2;
    }
    lanes[0]
}

#[inline(always)]
pub(crate) fn check_lengths<Src: Sources, S: Sinks>(n: usize, sources: &Src, sinks: &S) {
    // The generated code checked every length against the user's arrays already; this
    // guards the unchecked reads and writes below.
    assert!(sources.min_len() >= n, "loopfuse: an input has {} elements, the pass needs {n}", sources.min_len());
    assert!(sinks.min_len() >= n, "loopfuse: an output has {} elements, the pass needs {n}", sinks.min_len());
}

/// Runs one pass over `0..n` in the deterministic lane/block order (module docs): `body`
/// gets element `i` of every source and yields its reduction items and output values.
///
/// ```
/// use loopfuse_runtime::pass::pass;
/// use loopfuse_runtime::reduce::{Max, Sum};
/// let x: &[f64] = &[1.0, -4.0, 2.5];
/// let (s, m) = pass(x.len(), (x,), (Sum::new(), Max::new()), (), |(x,)| ((x, x), ()));
/// assert_eq!((s, m), (-0.5, 2.5));
/// ```
#[inline(always)]
pub fn pass<Src: Sources, R: Reducers, S: Sinks>(
    n: usize,
    sources: Src,
    reducers: R,
    sinks: S,
    mut body: impl FnMut(Src::Items) -> (R::Items, S::Items),
) -> R::Outputs {
    pass_staged(n, sources, (), reducers, sinks, |_| (), |items, ()| body(items))
}

/// [`pass`] with math stages ([`crate::stage`]): for each chunk of elements, `args` gives
/// each stage's argument per element, the stages are evaluated for the whole chunk, and
/// `body` gets the element's sources and stage results.
#[inline(always)]
pub fn pass_staged<Src: Sources, M: Stages, R: Reducers, S: Sinks>(
    n: usize,
    sources: Src,
    stages: M,
    reducers: R,
    sinks: S,
    args: impl FnMut(Src::Items) -> M::Args,
    body: impl FnMut(Src::Items, M::Values) -> (R::Items, S::Items),
) -> R::Outputs {
    check_lengths(n, &sources, &sinks);
    // The layout is looked at once: every operand unit-stride (always, for slices: their
    // `Flat` is themselves, so this is one loop) runs the contiguous loop, else the strided one.
    if sources.is_unit_stride() && sinks.is_unit_stride() {
        // SAFETY: both are unit-stride, just checked.
        let (sources, sinks) = unsafe { (sources.into_flat(), sinks.into_flat()) };
        drive(n, sources, stages, reducers, sinks, args, body)
    } else {
        drive(n, sources, stages, reducers, sinks, args, body)
    }
}

/// The loops of [`pass_staged`], lengths checked: [`elements`] for a pass without
/// reductions, else [`blocks`] over the lane groups, the lane tree, and [`tail`]. The
/// parallel driver ([`crate::par`]) runs the same three pieces on ranges of blocks.
#[inline(always)]
fn drive<Src: Sources, M: Stages, R: Reducers, S: Sinks>(
    n: usize,
    sources: Src,
    mut stages: M,
    reducers: R,
    mut sinks: S,
    mut args: impl FnMut(Src::Items) -> M::Args,
    mut body: impl FnMut(Src::Items, M::Values) -> (R::Items, S::Items),
) -> R::Outputs {
    if R::NONE {
        elements(0, n, &sources, &mut stages, &mut sinks, &mut args, &mut body);
        sinks.done();
        return reducers.finish(reducers.identity(), n);
    }
    let groups_end = n - n % LANES;
    let mut cascade = Cascade::new();
    blocks(0, groups_end, &sources, &mut stages, &reducers, &mut sinks, &mut args, &mut body, &mut cascade);
    // Under one lane group every lane is the identity, and so is their tree: skip both
    // (the result is the same bit for bit), which is most of the cost of a tiny call.
    let acc = if groups_end == 0 {
        reducers.identity()
    } else {
        combine_lanes(&reducers, &cascade.finish([reducers.identity(); LANES], merge_lanes(&reducers)))
    };
    let acc = tail(groups_end, n, acc, &sources, &mut stages, &reducers, &mut sinks, &mut args, &mut body);
    sinks.done();
    reducers.finish(acc, n)
}

/// Lane-wise merge of two partial results (vectorizes inside the clone).
#[inline(always)]
pub(crate) fn merge_lanes<R: Reducers>(
    reducers: &R,
) -> impl Fn([R::Accs; LANES], [R::Accs; LANES]) -> [R::Accs; LANES] + '_ {
    move |l, r| {
        let mut out = l;
        for j in 0..LANES {
            out[j] = reducers.merge(l[j], r[j]);
        }
        out
    }
}

/// Evaluates the stages of elements lo..hi, hi - lo <= the chunk, hi <= n. (A function, not
/// a closure: a closure was left out of line, without the clone's target features.)
#[inline(always)]
fn fill<Src: Sources, M: Stages>(
    stages: &mut M,
    sources: &Src,
    args: &mut impl FnMut(Src::Items) -> M::Args,
    lo: usize,
    hi: usize,
) {
    if !M::NONE && lo < hi {
        for i in lo..hi {
            // SAFETY: i < hi <= n <= sources.min_len() (checked by the caller); i - lo < CHUNK.
            unsafe { stages.store(i - lo, args(sources.get(i))) };
        }
        // SAFETY: hi - lo <= CHUNK, and 0..hi - lo were just stored.
        unsafe { stages.run(hi - lo) };
    }
}

/// Elements `lo..hi` of a pass without reductions, in stage chunks from `lo`.
/// The caller checked `hi <= ` every source's and sink's length.
#[inline(always)]
pub(crate) fn elements<Src: Sources, M: Stages, S: Sinks, V>(
    lo: usize,
    hi: usize,
    sources: &Src,
    stages: &mut M,
    sinks: &mut S,
    args: &mut impl FnMut(Src::Items) -> M::Args,
    body: &mut impl FnMut(Src::Items, M::Values) -> (V, S::Items),
) {
    // Without stages the whole range is one chunk, and the loop below is the plain one.
    let chunk = if M::NONE { usize::MAX } else { CHUNK };
    let mut lo = lo;
    // Whole chunks apart from the tail: their length is a constant, so copies to and from a
    // stage's buffers are a few vector moves, not calls of `memcpy` (integer cumsum, where
    // they are most of the work: 0.33 ns/elem with the calls, measured faster without).
    while !M::NONE && hi - lo >= CHUNK {
        element_chunk(lo, lo + CHUNK, sources, stages, sinks, args, body);
        lo += CHUNK;
    }
    while lo < hi {
        let end = lo + (hi - lo).min(chunk);
        element_chunk(lo, end, sources, stages, sinks, args, body);
        lo = end;
    }
}

/// One chunk of [`elements`]: `lo..hi`, `hi - lo <= CHUNK` with stages, `hi <=` every
/// source's and sink's length (the caller's check).
#[inline(always)]
fn element_chunk<Src: Sources, M: Stages, S: Sinks, V>(
    lo: usize,
    hi: usize,
    sources: &Src,
    stages: &mut M,
    sinks: &mut S,
    args: &mut impl FnMut(Src::Items) -> M::Args,
    body: &mut impl FnMut(Src::Items, M::Values) -> (V, S::Items),
) {
    fill(stages, sources, args, lo, hi);
    for i in lo..hi {
        // SAFETY: i < hi <= min_len of sources and sinks (the caller's check); i - lo is
        // below the length of the chunk's run.
        let (_, values) = body(unsafe { sources.get(i) }, unsafe { stages.load(i - lo) });
        // SAFETY: as above.
        unsafe { sinks.put(i, values) };
    }
}

/// The blocks of lane groups `start..end` (`start` a multiple of [`BLOCK`], `end` of
/// [`LANES`]), each block's 32 lanes pushed onto `cascade`. The caller checked `end <=`
/// every source's and sink's length.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
pub(crate) fn blocks<Src: Sources, M: Stages, R: Reducers, S: Sinks>(
    start: usize,
    end: usize,
    sources: &Src,
    stages: &mut M,
    reducers: &R,
    sinks: &mut S,
    args: &mut impl FnMut(Src::Items) -> M::Args,
    body: &mut impl FnMut(Src::Items, M::Values) -> (R::Items, S::Items),
    cascade: &mut Cascade<[R::Accs; LANES]>,
) {
    let chunk = if M::NONE { usize::MAX } else { CHUNK };
    let mut start = start;
    while start < end {
        let block_end = start + (end - start).min(BLOCK);
        // Aligned: when LLVM keeps the lanes in memory (many reductions), they are loaded
        // and stored a vector at a time.
        let mut lanes = Aligned([reducers.identity(); LANES]);
        // Chunks are whole lane groups: block_end - start and CHUNK are multiples of LANES.
        let mut lo = start;
        while lo < block_end {
            let hi = lo + (block_end - lo).min(chunk);
            fill(stages, sources, args, lo, hi);
            let mut i = lo;
            while i < hi {
                for (j, lane) in lanes.iter_mut().enumerate() {
                    // SAFETY: i + j < hi <= end <= min_len of sources and sinks; i + j - lo
                    // is below the length of the chunk's run.
                    let (items, values) = body(unsafe { sources.get(i + j) }, unsafe { stages.load(i + j - lo) });
                    reducers.update(lane, items, i + j);
                    // SAFETY: as above.
                    unsafe { sinks.put(i + j, values) };
                }
                i += LANES;
            }
            lo = hi;
        }
        cascade.push(lanes.0, merge_lanes(reducers));
        start = block_end;
    }
}

/// The tail `groups_end..n` (under [`LANES`] <= [`CHUNK`] elements: one stage chunk), added
/// to `acc` one by one. The caller checked `n <=` every source's and sink's length.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
pub(crate) fn tail<Src: Sources, M: Stages, R: Reducers, S: Sinks>(
    groups_end: usize,
    n: usize,
    mut acc: R::Accs,
    sources: &Src,
    stages: &mut M,
    reducers: &R,
    sinks: &mut S,
    args: &mut impl FnMut(Src::Items) -> M::Args,
    body: &mut impl FnMut(Src::Items, M::Values) -> (R::Items, S::Items),
) -> R::Accs {
    fill(stages, sources, args, groups_end, n);
    // The elements first, then their updates in order: the same updates in the same order,
    // but the body (a `sqrt`, a division) vectorizes over the tail, which would otherwise
    // cost as much as a lane group per element.
    assert!(n - groups_end <= LANES, "loopfuse: a tail of {} elements", n - groups_end);
    let mut items = [const { MaybeUninit::<R::Items>::uninit() }; LANES];
    for (i, item) in (groups_end..n).zip(items.iter_mut()) {
        // SAFETY: i < n <= min_len of sources and sinks; i - groups_end < n - groups_end, the
        // length of the tail's run.
        let (r, values) = body(unsafe { sources.get(i) }, unsafe { stages.load(i - groups_end) });
        item.write(r);
        // SAFETY: as above.
        unsafe { sinks.put(i, values) };
    }
    for (i, item) in (groups_end..n).zip(items.iter()) {
        // SAFETY: written by the loop above (the same `n - groups_end <= LANES` items).
        reducers.update(&mut acc, unsafe { item.assume_init_read() }, i);
    }
    acc
}

/// Runs one pass in exact source order (`#[kernel(strict)]`): one accumulator per
/// reduction, updated element by element, as the naive scalar loop would.
///
/// ```
/// use loopfuse_runtime::pass::pass_strict;
/// use loopfuse_runtime::reduce::Sum;
/// let x: &[f64] = &[0.1, 0.2, 0.3];
/// let (s,) = pass_strict(3, (x,), (Sum::new(),), (), |(x,)| ((x,), ()));
/// assert_eq!(s, (0.0 + 0.1) + 0.2 + 0.3);
/// ```
#[inline(always)]
pub fn pass_strict<Src: Sources, R: Reducers, S: Sinks>(
    n: usize,
    sources: Src,
    reducers: R,
    sinks: S,
    body: impl FnMut(Src::Items) -> (R::Items, S::Items),
) -> R::Outputs {
    check_lengths(n, &sources, &sinks);
    if sources.is_unit_stride() && sinks.is_unit_stride() {
        // SAFETY: both are unit-stride, just checked.
        let (sources, sinks) = unsafe { (sources.into_flat(), sinks.into_flat()) };
        drive_strict(n, sources, reducers, sinks, body)
    } else {
        drive_strict(n, sources, reducers, sinks, body)
    }
}

/// The loop of [`pass_strict`], lengths checked.
#[inline(always)]
fn drive_strict<Src: Sources, R: Reducers, S: Sinks>(
    n: usize,
    sources: Src,
    reducers: R,
    mut sinks: S,
    mut body: impl FnMut(Src::Items) -> (R::Items, S::Items),
) -> R::Outputs {
    let mut acc = reducers.identity();
    for i in 0..n {
        // SAFETY: i < n <= min_len of sources and sinks (checked above).
        let (items, values) = body(unsafe { sources.get(i) });
        reducers.update(&mut acc, items, i);
        // SAFETY: i < n <= sinks.min_len() (checked above).
        unsafe { sinks.put(i, values) };
    }
    sinks.done();
    reducers.finish(acc, n)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::output::OutBuf;
    use crate::reduce::*;

    /// Data with blocks, a partial block and a tail, values of both signs and a NaN-free spread.
    fn data(n: usize, seed: u64) -> Vec<f64> {
        let mut s = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
        (0..n)
            .map(|_| {
                s ^= s << 13;
                s ^= s >> 7;
                s ^= s << 17;
                (s >> 11) as f64 / (1u64 << 53) as f64 * 8.0 - 4.0
            })
            .collect()
    }

    /// One reducer alone in its pass: the flat reference of a nested group.
    fn alone<R: Reducer>(x: &[f64], r: R, item: impl Fn(f64) -> R::Item) -> R::Output {
        pass(x.len(), (x,), (r,), (), |(x,)| ((item(x),), ())).0
    }

    #[test]
    fn thirteen_nested_reducers_equal_each_alone() {
        for n in [0, 1, 31, 32, 33, 2048, 5000] {
            let x = &data(n, 1)[..];
            let ((r0, r1, r2, r3, r4, r5, r6, r7, r8, r9, r10, r11), (r12,)) = pass(
                n,
                (x,),
                (
                    (
                        Sum::new(),
                        Prod::new(),
                        Min::new(),
                        Max::new(),
                        ArgMin::new(),
                        ArgMax::new(),
                        Mean::new(),
                        Var::new(0.25),
                        MinNum::new(),
                        MaxNum::new(),
                        Count,
                        Any,
                    ),
                    (All,),
                ),
                (),
                |(x,)| (((x, x * 1e-3 + 1.0, x, x, x, x, x, x, x, x, x > 0.0, x > 3.0), (x > -10.0,)), ()),
            );
            assert_eq!(r0.to_bits(), alone(x, Sum::new(), |x| x).to_bits());
            assert_eq!(r1.to_bits(), alone(x, Prod::new(), |x| x * 1e-3 + 1.0).to_bits());
            if n > 0 {
                assert_eq!(r2.to_bits(), alone(x, Min::new(), |x| x).to_bits());
                assert_eq!(r3.to_bits(), alone(x, Max::new(), |x| x).to_bits());
                assert_eq!(r4, alone(x, ArgMin::new(), |x| x));
                assert_eq!(r5, alone(x, ArgMax::new(), |x| x));
            }
            assert_eq!(r6.to_bits(), alone(x, Mean::new(), |x| x).to_bits());
            assert_eq!(r7.to_bits(), alone(x, Var::new(0.25), |x| x).to_bits());
            assert_eq!(r8.to_bits(), alone(x, MinNum::new(), |x| x).to_bits());
            assert_eq!(r9.to_bits(), alone(x, MaxNum::new(), |x| x).to_bits());
            assert_eq!(r10, alone(x, Count, |x| x > 0.0));
            assert_eq!(r11, alone(x, Any, |x| x > 3.0));
            assert_eq!(r12, alone(x, All, |x| x > -10.0));
        }
    }

    #[test]
    fn thirty_nested_sources_and_reducers_equal_each_alone() {
        for n in [0, 1, 33, 5000] {
            let xs: Vec<Vec<f64>> = (0..30).map(|k| data(n, k + 2)).collect();
            let (
                (s0, s1, s2, s3, s4, s5, s6, s7, s8, s9, s10, s11),
                (s12, s13, s14, s15, s16, s17, s18, s19, s20, s21, s22, s23),
                (s24, s25, s26, s27, s28, s29),
            ) = pass(
                n,
                (
                    (
                        &xs[0][..],
                        &xs[1][..],
                        &xs[2][..],
                        &xs[3][..],
                        &xs[4][..],
                        &xs[5][..],
                        &xs[6][..],
                        &xs[7][..],
                        &xs[8][..],
                        &xs[9][..],
                        &xs[10][..],
                        &xs[11][..],
                    ),
                    (
                        &xs[12][..],
                        &xs[13][..],
                        &xs[14][..],
                        &xs[15][..],
                        &xs[16][..],
                        &xs[17][..],
                        &xs[18][..],
                        &xs[19][..],
                        &xs[20][..],
                        &xs[21][..],
                        &xs[22][..],
                        &xs[23][..],
                    ),
                    (&xs[24][..], &xs[25][..], &xs[26][..], &xs[27][..], &xs[28][..], &xs[29][..]),
                ),
                (
                    (
                        Sum::new(),
                        Sum::new(),
                        Sum::new(),
                        Sum::new(),
                        Sum::new(),
                        Sum::new(),
                        Sum::new(),
                        Sum::new(),
                        Sum::new(),
                        Sum::new(),
                        Sum::new(),
                        Sum::new(),
                    ),
                    (
                        Sum::new(),
                        Sum::new(),
                        Sum::new(),
                        Sum::new(),
                        Sum::new(),
                        Sum::new(),
                        Sum::new(),
                        Sum::new(),
                        Sum::new(),
                        Sum::new(),
                        Sum::new(),
                        Sum::new(),
                    ),
                    (Sum::new(), Sum::new(), Sum::new(), Sum::new(), Sum::new(), Sum::new()),
                ),
                (),
                |(
                    (x0, x1, x2, x3, x4, x5, x6, x7, x8, x9, x10, x11),
                    (x12, x13, x14, x15, x16, x17, x18, x19, x20, x21, x22, x23),
                    (x24, x25, x26, x27, x28, x29),
                )| {
                    (
                        (
                            (x0, x1, x2, x3, x4, x5, x6, x7, x8, x9, x10, x11),
                            (x12, x13, x14, x15, x16, x17, x18, x19, x20, x21, x22, x23),
                            (x24, x25, x26, x27, x28, x29),
                        ),
                        (),
                    )
                },
            );
            let nested = [
                s0, s1, s2, s3, s4, s5, s6, s7, s8, s9, s10, s11, s12, s13, s14, s15, s16, s17, s18, s19, s20, s21,
                s22, s23, s24, s25, s26, s27, s28, s29,
            ];
            for (k, s) in nested.iter().enumerate() {
                assert_eq!(s.to_bits(), alone(&xs[k], Sum::new(), |x| x).to_bits(), "reduction {k}, n = {n}");
            }
            let strict = pass_strict(
                n,
                (
                    (
                        &xs[0][..],
                        &xs[1][..],
                        &xs[2][..],
                        &xs[3][..],
                        &xs[4][..],
                        &xs[5][..],
                        &xs[6][..],
                        &xs[7][..],
                        &xs[8][..],
                        &xs[9][..],
                        &xs[10][..],
                        &xs[11][..],
                    ),
                    (
                        &xs[12][..],
                        &xs[13][..],
                        &xs[14][..],
                        &xs[15][..],
                        &xs[16][..],
                        &xs[17][..],
                        &xs[18][..],
                        &xs[19][..],
                        &xs[20][..],
                        &xs[21][..],
                        &xs[22][..],
                        &xs[23][..],
                    ),
                    (&xs[24][..], &xs[25][..], &xs[26][..], &xs[27][..], &xs[28][..], &xs[29][..]),
                ),
                (
                    (
                        Sum::new(),
                        Sum::new(),
                        Sum::new(),
                        Sum::new(),
                        Sum::new(),
                        Sum::new(),
                        Sum::new(),
                        Sum::new(),
                        Sum::new(),
                        Sum::new(),
                        Sum::new(),
                        Sum::new(),
                    ),
                    (
                        Sum::new(),
                        Sum::new(),
                        Sum::new(),
                        Sum::new(),
                        Sum::new(),
                        Sum::new(),
                        Sum::new(),
                        Sum::new(),
                        Sum::new(),
                        Sum::new(),
                        Sum::new(),
                        Sum::new(),
                    ),
                    (Sum::new(), Sum::new(), Sum::new(), Sum::new(), Sum::new(), Sum::new()),
                ),
                (),
                |(
                    (x0, x1, x2, x3, x4, x5, x6, x7, x8, x9, x10, x11),
                    (x12, x13, x14, x15, x16, x17, x18, x19, x20, x21, x22, x23),
                    (x24, x25, x26, x27, x28, x29),
                )| {
                    (
                        (
                            (x0, x1, x2, x3, x4, x5, x6, x7, x8, x9, x10, x11),
                            (x12, x13, x14, x15, x16, x17, x18, x19, x20, x21, x22, x23),
                            (x24, x25, x26, x27, x28, x29),
                        ),
                        (),
                    )
                },
            );
            assert_eq!(
                strict.2 .5.to_bits(),
                pass_strict(n, (&xs[29][..],), (Sum::new(),), (), |(x,)| ((x,), ())).0.to_bits()
            );
        }
    }

    #[test]
    fn thirteen_nested_sinks() {
        for n in [0, 1, 33, 5000] {
            let x = &data(n, 3)[..];
            let mut o: Vec<OutBuf<f64>> = (0..13).map(|_| OutBuf::new(n)).collect();
            {
                let [o0, o1, o2, o3, o4, o5, o6, o7, o8, o9, o10, o11, o12] = &mut o[..] else { unreachable!() };
                pass(n, (x,), (), ((o0, o1, o2, o3, o4, o5, o6, o7, o8, o9, o10, o11), (o12,)), |(x,)| {
                    (
                        (),
                        (
                            (
                                x * 0.0,
                                x * 1.0,
                                x * 2.0,
                                x * 3.0,
                                x * 4.0,
                                x * 5.0,
                                x * 6.0,
                                x * 7.0,
                                x * 8.0,
                                x * 9.0,
                                x * 10.0,
                                x * 11.0,
                            ),
                            (x * 12.0,),
                        ),
                    )
                });
            }
            for (k, o) in o.into_iter().enumerate() {
                let want: Vec<f64> = x.iter().map(|x| x * k as f64).collect();
                assert_eq!(o.into_vec(), want);
            }
        }
    }

    #[test]
    fn nested_stages_equal_flat() {
        use crate::math;
        use crate::stage::stage;
        let x = &data(100, 4)[..];
        let flat: Vec<(f64, f64)> = {
            let mut v = Vec::new();
            pass_staged(
                100,
                (x,),
                (stage(math::exp_slice), stage(math::ln_slice)),
                (),
                (),
                |(x,)| (x, x.abs()),
                |_, (e, l)| {
                    v.push((e, l));
                    ((), ())
                },
            );
            v
        };
        let mut nested = Vec::new();
        pass_staged(
            100,
            ((x,),),
            ((stage(math::exp_slice),), stage(math::ln_slice)),
            (),
            (),
            |((x,),)| ((x,), x.abs()),
            |_, ((e,), l)| {
                nested.push((e, l));
                ((), ())
            },
        );
        assert_eq!(flat.len(), 100);
        assert!(flat
            .iter()
            .zip(&nested)
            .all(|(a, b)| a.0.to_bits() == b.0.to_bits() && a.1.to_bits() == b.1.to_bits()));
    }

    #[test]
    fn cascade_levels_are_cache_line_aligned() {
        let c = std::hint::black_box(Cascade::<[f64; LANES]>::new());
        for level in &c.levels {
            assert_eq!(level.as_ptr() as usize % 64, 0);
        }
    }
}
