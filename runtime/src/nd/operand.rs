//! The operands of an N-d pass, as the drivers see them: leaves ([`NdView`] sources,
//! `&mut NdOut` sinks) and tuples of them, nested past 12 as in [`crate::pass`].
//!
//! # The contract
//! - A driver first checks every operand's shape ([`NdSources::check`]: a mismatch is a bug
//!   of the generated code and panics), then looks at every operand's strides
//!   ([`NdSources::visit`]) to choose a loop order (`nd::order`), then cuts rows: for a
//!   multi-index over the loop's outer axes, each leaf gives the 1-D row of its elements along
//!   the loop's inner axis ([`NdSources::row`]), a [`View`] or a [`RowMut`], and the driver
//!   runs the 1-D pass machinery over the tuple of rows.
//! - The rows of one call are the same elements of every operand: the operands have the same
//!   shape, and the driver passes the same axes and indices to each.
//! - The traits are sealed: the drivers trust the rows' memory.

use super::axis::GROUP;
use super::out::{NdOut, RowMut};
use super::pack::Pack;
use super::shape::Shape;
use super::view::{Along, NdView};
use crate::pass::{Sink, Sinks, Source, Sources};
use crate::view::View;
use std::marker::PhantomData;

pub(crate) mod sealed {
    pub trait Sealed {}
}
use sealed::Sealed;

/// One N-d source of a pass (an [`NdView`]) or a group of them (a tuple).
pub trait NdSource: Sealed {
    /// The element (a tuple for a group).
    type Item;
    /// A row of it.
    type Row: Source<Item = Self::Item>;
    /// Panics unless every leaf has shape `shape`.
    fn check(&self, shape: Shape);
    /// Calls `f` with the strides of every leaf.
    fn visit(&self, f: &mut impl FnMut(&[isize]));
    /// The row from the element at `idx[k]` of axis `axes[k]`, along `along`.
    ///
    /// # Safety
    /// `NdView::row`'s contract, for every leaf.
    unsafe fn row(&self, axes: &[usize], idx: &[usize], along: Along, len: usize) -> Self::Row;
    /// `row` (one of [`NdSource::row`]'s) moved `by` steps along `axis`: one multiply per
    /// leaf, where cutting the row anew costs a multiply per axis.
    ///
    /// # Safety
    /// The moved row's elements are elements of the operand (`row`'s index along `axis`
    /// plus `by` is in bounds).
    unsafe fn shift(&self, row: &Self::Row, axis: usize, by: usize) -> Self::Row;
    /// Scratch rows for [`NdSource::unit_row`].
    type Buf: Default;
    /// [`NdSource::row`], but a row of one element repeated (stride 0: a broadcast, such
    /// as `m.insert_axis(Axis(1))` along the rows) is copied into `buf` and read from there
    /// with unit stride, so a pass whose other rows are unit-stride keeps its contiguous
    /// loop (the 1-D driver takes the slice loop only when every row is unit-stride).
    ///
    /// # Safety
    /// As [`NdSource::row`]; and the row is used only until the next call with `buf`.
    unsafe fn unit_row(
        &self,
        axes: &[usize],
        idx: &[usize],
        along: Along,
        len: usize,
        buf: &mut Self::Buf,
    ) -> Self::Row;
    /// Packed rows for [`NdSource::group_rows`].
    type Pack: Default;
    /// The rows of [`GROUP`] results: `row` (one of [`NdSource::row`]'s) moved `0 .. g`
    /// steps along `axis`, the last `GROUP - g` repeating step `g - 1`; a view packs them in
    /// `slot` ([`crate::nd::pack`]) for one vector load per step.
    ///
    /// # Safety
    /// `row` is not empty; `1 <= g <= GROUP`; `row` moved `g - 1` steps along `axis` is in
    /// bounds; the rows are used only until the next call with `pack`.
    unsafe fn group_rows(
        &self,
        row: &Self::Row,
        axis: usize,
        g: usize,
        slot: usize,
        pack: &mut Self::Pack,
    ) -> [Self::Row; GROUP];
}

/// The sources of an N-d pass: a tuple of [`NdSource`]s, or `()`. Past 12, nest them as
/// in [`crate::pass`]: the elements arrive nested the same way.
///
/// ```
/// use loopfuse_runtime::nd::{pass, NdView, Shape};
/// use loopfuse_runtime::reduce::Sum;
/// let x = [1.0, 2.0, 3.0, 4.0];
/// let v = NdView::from_slice(&x, Shape::new(&[2, 2]));
/// let t = v.reversed_axes();
/// let ((s,), (d,)) = pass(v.shape(), ((v, t), (v,)), ((Sum::new(),), (Sum::new(),)), (), |((a, b), (c,))| {
///     (((a * b,), (c,)), ())
/// });
/// assert_eq!((s, d), (1.0 + 6.0 + 6.0 + 16.0, 10.0));
/// ```
pub trait NdSources: Sealed {
    /// A tuple of each source's element.
    type Items;
    /// A tuple of each source's row.
    type Rows: Sources<Items = Self::Items>;
    /// As [`NdSource::check`].
    fn check(&self, shape: Shape);
    /// As [`NdSource::visit`].
    fn visit(&self, f: &mut impl FnMut(&[isize]));
    /// As [`NdSource::row`].
    ///
    /// # Safety
    /// As [`NdSource::row`].
    unsafe fn row(&self, axes: &[usize], idx: &[usize], along: Along, len: usize) -> Self::Rows;
    /// As [`NdSource::shift`].
    ///
    /// # Safety
    /// As [`NdSource::shift`].
    unsafe fn shift(&self, rows: &Self::Rows, axis: usize, by: usize) -> Self::Rows;
    /// Scratch rows for [`NdSources::unit_rows`].
    type Bufs: Default;
    /// As [`NdSource::unit_row`].
    ///
    /// # Safety
    /// As [`NdSource::unit_row`].
    unsafe fn unit_rows(
        &self,
        axes: &[usize],
        idx: &[usize],
        along: Along,
        len: usize,
        bufs: &mut Self::Bufs,
    ) -> Self::Rows;
    /// Packed rows for [`NdSources::group_rows`].
    type Packs: Default;
    /// As [`NdSource::group_rows`].
    ///
    /// # Safety
    /// As [`NdSource::group_rows`].
    unsafe fn group_rows(
        &self,
        rows: &Self::Rows,
        axis: usize,
        g: usize,
        slot: usize,
        packs: &mut Self::Packs,
    ) -> [Self::Rows; GROUP];
}

/// One N-d output of a pass (`&mut NdOut<T>`) or a group of them (a tuple).
pub trait NdSink: Sealed {
    /// The element (a tuple for a group).
    type Item;
    /// A row of it.
    type Row: Sink<Item = Self::Item>;
    /// Panics unless every leaf has shape `shape`.
    fn check(&self, shape: Shape);
    /// Calls `f` with the strides of every leaf.
    fn visit(&self, f: &mut impl FnMut(&[isize]));
    /// The row from the element at `idx[k]` of axis `axes[k]`, along `along`.
    ///
    /// # Safety
    /// `NdView::row`'s contract, for every leaf; the rows written by one pass are disjoint.
    unsafe fn row(&mut self, axes: &[usize], idx: &[usize], along: Along, len: usize) -> Self::Row;
    /// Marks every leaf written (every element was).
    fn done(&mut self);
}

/// The outputs of an N-d pass: a tuple of [`NdSink`]s, or `()`.
pub trait NdSinks: Sealed {
    /// A tuple of each sink's element.
    type Items;
    /// A tuple of each sink's row.
    type Rows: Sinks<Items = Self::Items>;
    /// As [`NdSink::check`].
    fn check(&self, shape: Shape);
    /// As [`NdSink::visit`].
    fn visit(&self, f: &mut impl FnMut(&[isize]));
    /// As [`NdSink::row`].
    ///
    /// # Safety
    /// As [`NdSink::row`].
    unsafe fn row(&mut self, axes: &[usize], idx: &[usize], along: Along, len: usize) -> Self::Rows;
    /// As [`NdSink::done`].
    fn done(&mut self);
}

#[cold]
#[inline(never)]
#[track_caller]
fn shape_fail(what: &str, got: Shape, want: Shape) -> ! {
    panic!("loopfuse: an {what} of shape {got} in a pass over shape {want}")
}

impl<T> Sealed for NdView<'_, T> {}

impl<'a, T: Copy> NdSource for NdView<'a, T> {
    type Item = T;
    type Row = View<'a, T>;
    #[inline]
    fn check(&self, shape: Shape) {
        if self.shape() != shape {
            shape_fail("input", self.shape(), shape)
        }
    }
    #[inline(always)]
    fn visit(&self, f: &mut impl FnMut(&[isize])) {
        f(self.strides())
    }
    #[inline(always)]
    unsafe fn row(&self, axes: &[usize], idx: &[usize], along: Along, len: usize) -> View<'a, T> {
        // SAFETY: forwarded contract.
        unsafe { NdView::row(self, axes, idx, along, len) }
    }
    #[inline(always)]
    unsafe fn shift(&self, row: &View<'a, T>, axis: usize, by: usize) -> View<'a, T> {
        // SAFETY: forwarded contract: the moved row is in the view.
        unsafe { row.moved(by as isize * self.strides()[axis]) }
    }
    type Buf = Vec<T>;
    #[inline(always)]
    unsafe fn unit_row(
        &self,
        axes: &[usize],
        idx: &[usize],
        along: Along,
        len: usize,
        buf: &mut Vec<T>,
    ) -> View<'a, T> {
        // SAFETY: forwarded contract.
        let row = unsafe { NdView::row(self, axes, idx, along, len) };
        if row.stride() != 0 || len <= 1 {
            return row;
        }
        buf.clear();
        buf.resize(len, row[0]);
        // SAFETY: `buf` holds `len` initialized elements, and is neither written nor dropped
        // while the row is used (the caller's contract): the 1-D invariant holds.
        unsafe { View::from_raw_parts(buf.as_ptr(), len, 1) }
    }
    type Pack = Pack<T>;
    #[inline(always)]
    unsafe fn group_rows(
        &self,
        row: &View<'a, T>,
        axis: usize,
        g: usize,
        slot: usize,
        pack: &mut Pack<T>,
    ) -> [View<'a, T>; GROUP] {
        // SAFETY: forwarded contract; an input is never written during a pass.
        unsafe { pack.rows(row, self.strides()[axis], g, slot) }
    }
}

impl<T> Sealed for &mut NdOut<T> {}

impl<T: Copy> NdSink for &mut NdOut<T> {
    type Item = T;
    type Row = RowMut<T>;
    #[inline]
    fn check(&self, shape: Shape) {
        if self.shape() != shape {
            shape_fail("output", self.shape(), shape)
        }
    }
    #[inline(always)]
    fn visit(&self, f: &mut impl FnMut(&[isize])) {
        f(self.strides())
    }
    #[inline(always)]
    unsafe fn row(&mut self, axes: &[usize], idx: &[usize], along: Along, len: usize) -> RowMut<T> {
        // SAFETY: forwarded contract.
        unsafe { NdOut::row(self, axes, idx, along, len) }
    }
    #[inline]
    fn done(&mut self) {
        self.mark_written();
    }
}

/// A tuple of [`GROUP`]-arrays as a [`GROUP`]-array of tuples (rows are not `Copy`: an
/// output's row is unique).
macro_rules! transpose_group {
    ($r:ident, $($i:tt)*) => {{
        let mut it = ($( $r.$i.into_iter(), )*);
        macro_rules! next {
            () => {
                // SAFETY: each array has GROUP elements, and each is taken once.
                ($( unsafe { it.$i.next().unwrap_unchecked() }, )*)
            };
        }
        [next!(), next!(), next!(), next!(), next!(), next!(), next!(), next!()]
    }};
}

macro_rules! tuples {
    ($( ($($T:ident $i:tt),*) )*) => {$(
        impl<$($T: Sealed),*> Sealed for ($($T,)*) {}
        // A group of sources is one source (nesting past 12).
        impl<$($T: NdSource),*> NdSource for ($($T,)*) {
            type Item = ($($T::Item,)*);
            type Row = ($($T::Row,)*);
            #[inline]
            fn check(&self, shape: Shape) { $( self.$i.check(shape); )* }
            #[inline(always)]
            fn visit(&self, f: &mut impl FnMut(&[isize])) { $( self.$i.visit(f); )* }
            #[inline(always)]
            unsafe fn row(&self, axes: &[usize], idx: &[usize], along: Along, len: usize) -> Self::Row {
                // SAFETY: forwarded contract, for every element of the group.
                ($( unsafe { self.$i.row(axes, idx, along, len) }, )*)
            }
            #[inline(always)]
            unsafe fn shift(&self, row: &Self::Row, axis: usize, by: usize) -> Self::Row {
                // SAFETY: forwarded contract, for every element of the group.
                ($( unsafe { self.$i.shift(&row.$i, axis, by) }, )*)
            }
            type Buf = ($($T::Buf,)*);
            #[inline(always)]
            unsafe fn unit_row(&self, axes: &[usize], idx: &[usize], along: Along, len: usize, buf: &mut Self::Buf) -> Self::Row {
                // SAFETY: forwarded contract, for every element of the group.
                ($( unsafe { self.$i.unit_row(axes, idx, along, len, &mut buf.$i) }, )*)
            }
            type Pack = ($($T::Pack,)*);
            #[inline(always)]
            unsafe fn group_rows(&self, row: &Self::Row, axis: usize, g: usize, slot: usize, pack: &mut Self::Pack) -> [Self::Row; GROUP] {
                // SAFETY: forwarded contract, for every element of the group.
                let r = ($( unsafe { self.$i.group_rows(&row.$i, axis, g, slot, &mut pack.$i) }, )*);
                transpose_group!(r, $($i)*)
            }
        }
        impl<$($T: NdSource),*> NdSources for ($($T,)*) {
            type Items = ($($T::Item,)*);
            type Rows = ($($T::Row,)*);
            #[inline]
            fn check(&self, shape: Shape) { $( self.$i.check(shape); )* }
            #[inline(always)]
            fn visit(&self, f: &mut impl FnMut(&[isize])) { $( self.$i.visit(f); )* }
            #[inline(always)]
            unsafe fn row(&self, axes: &[usize], idx: &[usize], along: Along, len: usize) -> Self::Rows {
                // SAFETY: forwarded contract, for every source.
                ($( unsafe { self.$i.row(axes, idx, along, len) }, )*)
            }
            #[inline(always)]
            unsafe fn shift(&self, rows: &Self::Rows, axis: usize, by: usize) -> Self::Rows {
                // SAFETY: forwarded contract, for every source.
                ($( unsafe { self.$i.shift(&rows.$i, axis, by) }, )*)
            }
            type Bufs = ($($T::Buf,)*);
            #[inline(always)]
            unsafe fn unit_rows(&self, axes: &[usize], idx: &[usize], along: Along, len: usize, bufs: &mut Self::Bufs) -> Self::Rows {
                // SAFETY: forwarded contract, for every source.
                ($( unsafe { self.$i.unit_row(axes, idx, along, len, &mut bufs.$i) }, )*)
            }
            type Packs = ($($T::Pack,)*);
            #[inline(always)]
            unsafe fn group_rows(&self, rows: &Self::Rows, axis: usize, g: usize, slot: usize, packs: &mut Self::Packs) -> [Self::Rows; GROUP] {
                // SAFETY: forwarded contract, for every source.
                let r = ($( unsafe { self.$i.group_rows(&rows.$i, axis, g, slot, &mut packs.$i) }, )*);
                transpose_group!(r, $($i)*)
            }
        }
        // A group of sinks is one sink.
        impl<$($T: NdSink),*> NdSink for ($($T,)*) {
            type Item = ($($T::Item,)*);
            type Row = ($($T::Row,)*);
            #[inline]
            fn check(&self, shape: Shape) { $( self.$i.check(shape); )* }
            #[inline(always)]
            fn visit(&self, f: &mut impl FnMut(&[isize])) { $( self.$i.visit(f); )* }
            #[inline(always)]
            unsafe fn row(&mut self, axes: &[usize], idx: &[usize], along: Along, len: usize) -> Self::Row {
                // SAFETY: forwarded contract, for every element of the group.
                ($( unsafe { self.$i.row(axes, idx, along, len) }, )*)
            }
            #[inline]
            fn done(&mut self) { $( self.$i.done(); )* }
        }
        impl<$($T: NdSink),*> NdSinks for ($($T,)*) {
            type Items = ($($T::Item,)*);
            type Rows = ($($T::Row,)*);
            #[inline]
            fn check(&self, shape: Shape) { $( self.$i.check(shape); )* }
            #[inline(always)]
            fn visit(&self, f: &mut impl FnMut(&[isize])) { $( self.$i.visit(f); )* }
            #[inline(always)]
            unsafe fn row(&mut self, axes: &[usize], idx: &[usize], along: Along, len: usize) -> Self::Rows {
                // SAFETY: forwarded contract, for every sink.
                ($( unsafe { self.$i.row(axes, idx, along, len) }, )*)
            }
            #[inline]
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

impl Sealed for () {}

impl NdSources for () {
    type Items = ();
    type Rows = ();
    #[inline]
    fn check(&self, _: Shape) {}
    #[inline(always)]
    fn visit(&self, _: &mut impl FnMut(&[isize])) {}
    #[inline(always)]
    unsafe fn row(&self, _: &[usize], _: &[usize], _: Along, _: usize) {}
    #[inline(always)]
    unsafe fn shift(&self, _: &(), _: usize, _: usize) {}
    type Bufs = ();
    #[inline(always)]
    unsafe fn unit_rows(&self, _: &[usize], _: &[usize], _: Along, _: usize, _: &mut ()) {}
    type Packs = ();
    #[inline(always)]
    unsafe fn group_rows(&self, _: &(), _: usize, _: usize, _: usize, _: &mut ()) -> [(); GROUP] {
        [(); GROUP]
    }
}

/// [`NdSource::group_rows`] of a source that is not packed (an output read back, `y += e`):
/// `row` shifted `0 .. GROUP` steps along `axis`, the last `GROUP - g` at step `g - 1`.
macro_rules! shifted_group {
    ($src:expr, $row:expr, $axis:expr, $g:expr) => {{
        let (src, row, axis, g) = ($src, $row, $axis, $g);
        macro_rules! at {
            ($u:expr) => {
                // SAFETY: u.min(g - 1) < g: in bounds (the caller's contract).
                unsafe { src.shift(row, axis, ($u as usize).min(g - 1)) }
            };
        }
        [at!(0), at!(1), at!(2), at!(3), at!(4), at!(5), at!(6), at!(7)]
    }};
}
pub(crate) use shifted_group;

impl NdSinks for () {
    type Items = ();
    type Rows = ();
    #[inline]
    fn check(&self, _: Shape) {}
    #[inline(always)]
    fn visit(&self, _: &mut impl FnMut(&[isize])) {}
    #[inline(always)]
    unsafe fn row(&mut self, _: &[usize], _: &[usize], _: Along, _: usize) {}
    #[inline]
    fn done(&mut self) {}
}

/// The results of an axis pass written through `f`: an elementwise epilogue fused into the
/// pass (`x.sum_axis(Axis(1)).sqrt()` writes each root as its sum is done). Made by
/// [`crate::nd::axis_pass_then`].
pub struct Mapped<O, F, I> {
    pub(crate) outs: O,
    pub(crate) f: F,
    pub(crate) item: PhantomData<fn(I)>,
}

impl<O, F, I> Mapped<O, F, I> {
    pub(crate) fn new(outs: O, f: F) -> Self {
        Mapped { outs, f, item: PhantomData }
    }
}

impl<O, F, I> Sealed for Mapped<O, F, I> {}

impl<I, O: NdSinks, F: FnMut(I) -> O::Items + Copy> NdSinks for Mapped<O, F, I> {
    type Items = I;
    type Rows = MappedRows<O::Rows, F, I>;
    #[inline]
    fn check(&self, shape: Shape) {
        self.outs.check(shape)
    }
    #[inline(always)]
    fn visit(&self, f: &mut impl FnMut(&[isize])) {
        self.outs.visit(f)
    }
    #[inline(always)]
    unsafe fn row(&mut self, axes: &[usize], idx: &[usize], along: Along, len: usize) -> Self::Rows {
        // SAFETY: forwarded contract.
        MappedRows { rows: unsafe { self.outs.row(axes, idx, along, len) }, f: self.f, item: PhantomData }
    }
    #[inline]
    fn done(&mut self) {
        self.outs.done()
    }
}

/// A row of [`Mapped`]: each value goes through `f` into the outputs' rows.
pub struct MappedRows<S, F, I> {
    rows: S,
    f: F,
    item: PhantomData<fn(I)>,
}

impl<I, S: Sinks, F: FnMut(I) -> S::Items + Copy> Sinks for MappedRows<S, F, I> {
    type Items = I;
    type Flat = MappedRows<S::Flat, F, I>;
    #[inline(always)]
    fn min_len(&self) -> usize {
        self.rows.min_len()
    }
    #[inline(always)]
    fn is_unit_stride(&self) -> bool {
        self.rows.is_unit_stride()
    }
    #[inline(always)]
    unsafe fn into_flat(self) -> Self::Flat {
        // SAFETY: forwarded contract.
        MappedRows { rows: unsafe { self.rows.into_flat() }, f: self.f, item: PhantomData }
    }
    #[inline(always)]
    unsafe fn put(&mut self, i: usize, values: I) {
        let values = (self.f)(values);
        // SAFETY: forwarded contract.
        unsafe { self.rows.put(i, values) }
    }
    #[inline(always)]
    fn done(&mut self) {
        self.rows.done()
    }
}
