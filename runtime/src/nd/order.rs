//! Choosing the loop order of a pass from its operands' strides, and collapsing axes.
//!
//! # The contract
//! An [`Order`] is the list of loops a driver runs, outermost first. Loop `k` runs over
//! `lens[k]` indices and stands for a group of logical axes that are contiguous across each
//! other in every operand; its index `i` is the element offset `i * strides[axes[k]]` in every
//! operand, where `axes[k]` is the innermost logical axis of the group. That is what
//! collapsing needs: for consecutive axes `a` (outer) and `b` (inner) of a group, every
//! operand has `stride[a] == stride[b] * len[b]` (a broadcast axis, stride 0 on both, counts).
//! Axes of length 1 are dropped (their index is always 0).
//!
//! - [`Order::logical`] keeps the logical C order (what reductions need: their bits follow
//!   the flat C index) and only collapses.
//! - [`Order::free`] (no reduction: every element is independent) also permutes: as
//!   ndarray's `Zip`, the axis with the smallest strides goes innermost, sinks first (the
//!   writes), then sources, ties kept in logical order. So C operands, F operands (with F
//!   sinks) and transposed views all get a unit-stride inner loop.
//!
//! An order of rank 0 means one element (every axis had length 1); drivers check for empty
//! shapes before asking for an order.

use super::operand::{NdSinks, NdSources};
use super::shape::{Shape, MAX_RANK};

/// The loops of a pass (module docs).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Order {
    /// The representative logical axis of each loop, outermost first.
    pub axes: [usize; MAX_RANK],
    /// The number of indices of each loop.
    pub lens: [usize; MAX_RANK],
    pub rank: usize,
}

impl Order {
    /// The logical C order, collapsed.
    pub fn logical<Src: NdSources, S: NdSinks>(shape: Shape, sources: &Src, sinks: &S) -> Order {
        let mut axes = [0; MAX_RANK];
        let mut rank = 0;
        for (a, &len) in shape.dims().iter().enumerate() {
            if len != 1 {
                axes[rank] = a;
                rank += 1;
            }
        }
        collapse(shape, &axes[..rank], sources, sinks)
    }

    /// The order of smallest strides innermost, collapsed.
    pub fn free<Src: NdSources, S: NdSinks>(shape: Shape, sources: &Src, sinks: &S) -> Order {
        let (axes, rank) = free_axes(shape, sources, sinks, None);
        collapse(shape, &axes[..rank], sources, sinks)
    }

    /// The outermost axis (of length > 1) of [`Order::free`] before collapsing, `skip`
    /// left out: where a parallel pass splits (`nd::par`), so that each chunk is a run of
    /// whole outer rows in memory. `None` when no other axis is longer than 1.
    pub fn outermost<Src: NdSources, S: NdSinks>(
        shape: Shape,
        sources: &Src,
        sinks: &S,
        skip: Option<usize>,
    ) -> Option<usize> {
        let (axes, rank) = free_axes(shape, sources, sinks, skip);
        (rank > 0).then_some(axes[0])
    }

    /// The loops but the innermost: what a driver iterates to cut rows.
    #[inline]
    pub fn outer(&self) -> (&[usize], &[usize]) {
        let r = self.rank.saturating_sub(1);
        (&self.axes[..r], &self.lens[..r])
    }
}

/// The axes of length > 1 (but `skip`), largest strides first: per axis, the sum of
/// |stride| over sinks, then over sources. Summing keeps one ordering when the operands
/// agree (all C, all F) and lets the majority win otherwise.
fn free_axes<Src: NdSources, S: NdSinks>(
    shape: Shape,
    sources: &Src,
    sinks: &S,
    skip: Option<usize>,
) -> ([usize; MAX_RANK], usize) {
    let mut sink_key = [0usize; MAX_RANK];
    let mut source_key = [0usize; MAX_RANK];
    sinks.visit(&mut |s| {
        for (k, v) in sink_key.iter_mut().zip(s) {
            *k = k.saturating_add(v.unsigned_abs());
        }
    });
    sources.visit(&mut |s| {
        for (k, v) in source_key.iter_mut().zip(s) {
            *k = k.saturating_add(v.unsigned_abs());
        }
    });
    let mut axes = [0; MAX_RANK];
    let mut rank = 0;
    for (a, &len) in shape.dims().iter().enumerate() {
        if len != 1 && Some(a) != skip {
            axes[rank] = a;
            rank += 1;
        }
    }
    // Largest key outermost; the sort is stable, so ties keep the logical order.
    axes[..rank].sort_by(|&a, &b| (sink_key[b], source_key[b]).cmp(&(sink_key[a], source_key[a])));
    (axes, rank)
}

/// Collapses consecutive axes of `axes` (outermost first, lengths > 1) that every operand
/// has contiguous across each other.
fn collapse<Src: NdSources, S: NdSinks>(shape: Shape, axes: &[usize], sources: &Src, sinks: &S) -> Order {
    let mut order = Order { axes: [0; MAX_RANK], lens: [0; MAX_RANK], rank: 0 };
    for &a in axes {
        let len_a = shape.dims()[a];
        if order.rank > 0 {
            // The group so far (outer, innermost axis b) and the next axis a (inner).
            let (b, len_b) = (order.axes[order.rank - 1], order.lens[order.rank - 1]);
            let mut ok = true;
            let mut check = |s: &[isize]| ok &= s[b] == s[a].wrapping_mul(len_a as isize);
            sources.visit(&mut check);
            sinks.visit(&mut check);
            if ok {
                // Index i of the group is i / len_a along the outer part and i % len_a
                // along a: offset i * s[a]. The group's innermost axis is now a.
                order.axes[order.rank - 1] = a;
                order.lens[order.rank - 1] = len_b * len_a;
                continue;
            }
        }
        order.axes[order.rank] = a;
        order.lens[order.rank] = len_a;
        order.rank += 1;
    }
    order
}

/// Runs `$body` with `$idx: &[usize]` bound to every multi-index of `$lens` in C order
/// (once with `[]` for no axis).
///
/// A macro, not a function taking a closure: a closure written in the runtime is compiled
/// without the kernel clone's target features, and when it holds the hot loop LLVM may
/// leave it out of line, and can then not inline the kernel's body into it (a call per
/// element: the N-d matvec measured 3.7x slower than a hand loop). Expanded in place, the
/// loop is part of the `#[inline(always)]` driver, and so of the clone.
macro_rules! for_each_index {
    ($lens:expr, |$idx:ident| $body:block) => {{
        let lens: &[usize] = $lens;
        let mut at = [0usize; $crate::nd::MAX_RANK];
        let r = lens.len();
        if !lens.contains(&0) {
            'odometer: loop {
                {
                    let $idx: &[usize] = &at[..r];
                    $body
                }
                // The last index moves fastest.
                let mut k = r;
                loop {
                    if k == 0 {
                        break 'odometer;
                    }
                    k -= 1;
                    at[k] += 1;
                    if at[k] < lens[k] {
                        break;
                    }
                    at[k] = 0;
                }
            }
        }
    }};
}
pub(crate) use for_each_index;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nd::{NdOut, NdView};

    fn view<'a>(x: &'a [f64], dims: &[usize], strides: &[isize]) -> NdView<'a, f64> {
        // Only the layout is looked at: no element is read.
        // SAFETY: test views are never read (the order functions read strides only).
        unsafe { NdView::from_raw_parts(x.as_ptr(), Shape::new(dims), strides) }
    }

    #[test]
    fn c_operands_collapse_to_one_loop() {
        let x = [0.0; 24];
        let s = Shape::new(&[2, 3, 4]);
        let o = Order::logical(s, &(view(&x, &[2, 3, 4], &[12, 4, 1]),), &());
        assert_eq!((o.rank, o.axes[0], o.lens[0]), (1, 2, 24));
        let mut y = NdOut::<f64>::new(s, false);
        let o = Order::free(s, &(view(&x, &[2, 3, 4], &[12, 4, 1]),), &(&mut y,));
        assert_eq!((o.rank, o.lens[0]), (1, 24));
    }

    #[test]
    fn f_operands_run_inner_first_axis() {
        let x = [0.0; 12];
        let s = Shape::new(&[3, 4]);
        let mut y = NdOut::<f64>::new(s, true);
        let o = Order::free(s, &(view(&x, &[3, 4], &[1, 3]),), &(&mut y,));
        assert_eq!((o.rank, o.axes[0], o.lens[0]), (1, 0, 12));
        // Logical order cannot collapse F operands.
        let o = Order::logical(s, &(view(&x, &[3, 4], &[1, 3]),), &(&mut y,));
        assert_eq!((o.rank, &o.axes[..2], &o.lens[..2]), (2, &[0, 1][..], &[3, 4][..]));
    }

    #[test]
    fn broadcast_and_unit_axes() {
        let x = [0.0; 4];
        let s = Shape::new(&[3, 1, 4]);
        // A row broadcast down the first axis: stride 0 there, the middle axis dropped.
        let o = Order::logical(s, &(view(&x, &[3, 1, 4], &[0, 0, 1]),), &());
        assert_eq!((o.rank, &o.lens[..2]), (2, &[3, 4][..]));
        let o = Order::logical(Shape::new(&[1, 1]), &(view(&x, &[1, 1], &[7, 9]),), &());
        assert_eq!(o.rank, 0);
    }

    #[test]
    fn odometer() {
        let mut seen = Vec::new();
        for_each_index!(&[2, 3], |i| { seen.push((i[0], i[1])) });
        assert_eq!(seen, [(0, 0), (0, 1), (0, 2), (1, 0), (1, 1), (1, 2)]);
        let mut n = 0;
        for_each_index!(&[], |_i| { n += 1 });
        for_each_index!(&[3, 0], |_i| { n += 10 });
        assert_eq!(n, 1);
    }
}
