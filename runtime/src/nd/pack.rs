//! Packed groups of short rows: what lets the in-order chains of an axis reduction
//! (strategy 3 of [`crate::nd::axis`], pairwise distances over 16 features) read the step
//! `e` of all [`GROUP`] rows with one vector load.
//!
//! # The contract
//! - **Layout.** A group is [`GROUP`] rows of one source, `first` moved `0, 1, ..` steps
//!   along the group's axis (rows past the group's `g` repeat row `g - 1`). Packed, element
//!   `e` of row `u` is at `e * GROUP + u` of the group's slot: a transposed tile of
//!   `len * GROUP` elements, read back as views of stride [`GROUP`].
//! - **Reuse.** A slot is filled only when its content would change: it remembers the
//!   address of `first` and `g` it was filled from. Sources are read-only during a pass, so
//!   the same start gives the same elements: a `y` row block is packed once and reused for
//!   every `x` row, and a source that does not move along the group's axis (stride 0: `x` in
//!   `x.insert_axis(Axis(1)) - y.insert_axis(Axis(0))`) always uses slot 0, filled with each
//!   element repeated.
//! - **Memory.** [`PACK_ELEMS`] elements per source at most (the drivers take as many groups
//!   per block as fit), or one group's `len * GROUP` when that is more (a `strict` reduction
//!   of rows longer than 256); the values are the elements themselves, so the reduction's
//!   bits do not change.

use super::axis::GROUP;
use crate::view::View;

// The rows are written out for eight (`Pack::rows`).
const _: () = assert!(GROUP == 8);

/// Elements of one source's packs per block of groups: 16 KiB of f64, so that the packs of
/// two sources and the accumulators stay in L1.
pub const PACK_ELEMS: usize = 2048;

/// How many groups of rows of length `len` a block packs (at least one).
///
/// ```
/// use loopfuse_runtime::nd::pack::groups_per_block;
/// assert_eq!((groups_per_block(16), groups_per_block(3), groups_per_block(1000)), (16, 64, 1));
/// ```
#[inline]
pub fn groups_per_block(len: usize) -> usize {
    (PACK_ELEMS / (len * GROUP).max(1)).clamp(1, 64)
}

/// The packed slots of one source (module docs).
pub struct Pack<T> {
    buf: Vec<T>,
    /// Per slot, the address of `first` and `g` it holds (`(0, 0)`: nothing).
    keys: Vec<(usize, usize)>,
}

impl<T> Default for Pack<T> {
    fn default() -> Self {
        Pack { buf: Vec::new(), keys: Vec::new() }
    }
}

impl<T: Copy> Pack<T> {
    /// The group's rows read from slot `slot` (slot 0 when `step` is 0), filled first unless
    /// it holds them already: `first`, and `first` moved `u * step` elements for `u < g`.
    ///
    /// Every path returns rows of the same layout (a branch back to `first` cost the vector
    /// load: LLVM then no longer sees that the rows are adjacent).
    ///
    /// # Safety
    /// `first` is not empty; `1 <= g <= GROUP`; `first` moved by `u * step` for every
    /// `u < g` is a view of the same operand (its elements in bounds); the operand is not
    /// written while the pack lives; the rows are used only until the next call.
    #[inline(always)]
    pub(crate) unsafe fn rows<'a>(
        &mut self,
        first: &View<'a, T>,
        step: isize,
        g: usize,
        slot: usize,
    ) -> [View<'a, T>; GROUP] {
        let len = first.len();
        debug_assert!(len >= 1 && (1..=GROUP).contains(&g));
        let slot = if step == 0 { 0 } else { slot };
        let size = len * GROUP;
        if self.keys.len() <= slot {
            self.keys.resize(slot + 1, (0, 0));
        }
        if self.buf.len() < (slot + 1) * size {
            // SAFETY: len >= 1.
            self.buf.resize((slot + 1) * size, unsafe { *first.get_unchecked(0) });
        }
        let key = (first.as_ptr() as usize, g);
        let dst = &mut self.buf[slot * size..(slot + 1) * size];
        if self.keys[slot] != key {
            if step == 0 {
                for e in 0..len {
                    // SAFETY: e < len.
                    let v = unsafe { *first.get_unchecked(e) };
                    // One element at a time: vectorized across `e` instead, this loop became
                    // eight scatters per step.
                    let lanes: &mut [T; GROUP] =
                        (&mut dst[e * GROUP..(e + 1) * GROUP]).try_into().expect("a slot holds len * GROUP");
                    *lanes = [v; GROUP];
                }
            } else {
                for u in 0..GROUP {
                    // SAFETY: u.min(g - 1) < g (the caller's contract).
                    let row = unsafe { first.moved(u.min(g - 1) as isize * step) };
                    for e in 0..len {
                        // SAFETY: e < len, the moved row's length.
                        dst[e * GROUP + u] = unsafe { *row.get_unchecked(e) };
                    }
                }
            }
            self.keys[slot] = key;
        }
        let at = dst.as_ptr();
        // SAFETY: row u's elements are at `u + e * GROUP` for e < len, inside the slot's
        // `len * GROUP` initialized elements; the buffer is neither written nor moved while
        // the rows are used (the caller's contract).
        // Written out: `array::from_fn`'s closure was left out of line (see `for_each_index!`).
        macro_rules! row {
            ($u:expr) => {
                // SAFETY: as above.
                unsafe { View::from_raw_parts(at.add($u), len, GROUP as isize) }
            };
        }
        [row!(0), row!(1), row!(2), row!(3), row!(4), row!(5), row!(6), row!(7)]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn collect(v: &View<'_, f64>) -> Vec<f64> {
        v.iter().copied().collect()
    }

    #[test]
    fn a_moving_group_is_transposed_and_a_short_one_repeats_its_last_row() {
        // 3 rows of length 2, stride 2 between rows: rows [0 1], [2 3], [4 5].
        let x: Vec<f64> = (0..6).map(f64::from).collect();
        let first = View::from(&x[..2]);
        let mut p = Pack::default();
        // SAFETY: first moved by 0, 2, 4 stays in x.
        let rows = unsafe { p.rows(&first, 2, 3, 1) };
        assert_eq!(collect(&rows[0]), [0.0, 1.0]);
        assert_eq!(collect(&rows[2]), [4.0, 5.0]);
        assert_eq!(collect(&rows[GROUP - 1]), [4.0, 5.0]);
        // Slot 1 of length 2: the buffer holds two slots, the last element is row 7's last.
        assert_eq!(p.buf.len(), 2 * 2 * GROUP);
        assert_eq!(p.buf[2 * 2 * GROUP - 1], 5.0);
    }

    #[test]
    fn a_still_group_repeats_each_element_in_slot_0_and_a_slot_is_refilled_when_its_start_moves() {
        let x = [1.0, 2.0, 3.0];
        let mut p = Pack::default();
        // SAFETY: step 0: every row is `first`.
        let rows = unsafe { p.rows(&View::from(&x[..2]), 0, GROUP, 5) };
        assert!(rows.iter().all(|r| collect(r) == [1.0, 2.0]));
        assert_eq!(p.buf.len(), 2 * GROUP);
        // SAFETY: as above.
        let rows = unsafe { p.rows(&View::from(&x[1..]), 0, GROUP, 5) };
        assert!(rows.iter().all(|r| collect(r) == [2.0, 3.0]));
    }
}
