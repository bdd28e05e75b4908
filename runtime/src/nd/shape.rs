//! Shapes and NumPy broadcasting.
//!
//! # The contract
//! - A [`Shape`] is at most [`MAX_RANK`] axis lengths, stored inline (it is `Copy`, so the
//!   generated code passes shapes around freely). Unused slots are always `0`, so the derived
//!   `PartialEq` compares only the axes in use.
//! - [`broadcast`] is NumPy's rule over the operands in the order given: shapes are aligned on
//!   their trailing axes, missing leading axes count as length 1, an axis of length 1
//!   stretches to the other length. The first operand whose length on an axis is not 1 fixes
//!   that axis; a later operand with a different length (not 1) is the error, which names the
//!   later operand first and the one that fixed the length second.
//! - [`check_fits`] is the rule for an operand that may not grow the result (an in-place
//!   output, or an operand checked against a result whose shape is already known).
//! - Every check returns a [`KernelError`] for user input; shape mismatches found later, inside
//!   a driver, are bugs of the generated code and panic.

use crate::error::KernelError;
use std::fmt;

/// The largest rank the N-d runtime handles (as NumPy's 32 is for it; ndarray's fixed
/// dimensions stop at 6, `IxDyn` past 16 is rejected by [`Shape::new`]).
pub const MAX_RANK: usize = 16;

/// A shape: `rank <= MAX_RANK` axis lengths. `Copy`.
///
/// ```
/// use loopfuse_runtime::nd::Shape;
/// let s = Shape::new(&[3, 4]);
/// assert_eq!((s.rank(), s.len(), s.dims()), (2, 12, &[3, 4][..]));
/// assert_eq!(s.to_string(), "[3, 4]");
/// assert_eq!(s.insert_axis(1).dims(), &[3, 1, 4]);
/// assert_eq!(s.remove_axis(0).dims(), &[4]);
/// assert_eq!(s.reversed().dims(), &[4, 3]);
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Shape {
    /// `dims[rank..]` are 0 (module docs).
    dims: [usize; MAX_RANK],
    rank: usize,
}

impl Shape {
    /// The shape with these axis lengths.
    ///
    /// # Panics
    /// With the rank, if `dims` has more than [`MAX_RANK`] axes.
    #[inline]
    #[track_caller]
    pub fn new(dims: &[usize]) -> Shape {
        if dims.len() > MAX_RANK {
            rank_fail(dims.len());
        }
        let mut s = Shape { dims: [0; MAX_RANK], rank: dims.len() };
        s.dims[..dims.len()].copy_from_slice(dims);
        s
    }

    /// The axis lengths, outermost first.
    #[inline(always)]
    pub fn dims(&self) -> &[usize] {
        &self.dims[..self.rank]
    }

    /// The number of axes.
    #[inline(always)]
    pub fn rank(&self) -> usize {
        self.rank
    }

    /// The number of elements: the product of the lengths (1 for rank 0).
    #[inline]
    pub fn len(&self) -> usize {
        self.dims().iter().product()
    }

    /// `true` when some axis has length 0.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The shape without axis `axis` (what an axis reduction returns).
    ///
    /// # Panics
    /// If `axis >= rank`.
    #[inline]
    #[track_caller]
    pub fn remove_axis(&self, axis: usize) -> Shape {
        assert!(axis < self.rank, "loopfuse: axis {axis} is out of bounds for a shape of rank {}", self.rank);
        let mut s = *self;
        s.dims.copy_within(axis + 1..self.rank, axis);
        s.rank -= 1;
        s.dims[s.rank] = 0;
        s
    }

    /// The shape with a new axis of length 1 before axis `axis` (`axis == rank`: last).
    ///
    /// # Panics
    /// If `axis > rank` or the rank is already [`MAX_RANK`].
    #[inline]
    #[track_caller]
    pub fn insert_axis(&self, axis: usize) -> Shape {
        assert!(axis <= self.rank, "loopfuse: cannot insert axis {axis} into a shape of rank {}", self.rank);
        if self.rank == MAX_RANK {
            rank_fail(MAX_RANK + 1);
        }
        let mut s = *self;
        s.dims.copy_within(axis..self.rank, axis + 1);
        s.dims[axis] = 1;
        s.rank += 1;
        s
    }

    /// The axes in reverse order (the shape of `.t()`).
    #[inline]
    pub fn reversed(&self) -> Shape {
        let mut s = *self;
        s.dims[..self.rank].reverse();
        s
    }
}

impl fmt::Display for Shape {
    /// `[3, 4]`, as NumPy and ndarray print shapes (`[]` for rank 0).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.dims())
    }
}

#[cold]
#[inline(never)]
#[track_caller]
fn rank_fail(rank: usize) -> ! {
    panic!("loopfuse: an array of rank {rank} has more than the {MAX_RANK} axes loopfuse supports")
}

/// NumPy broadcasting of several operands, in the order given (module docs).
///
/// ```
/// use loopfuse_runtime::nd::{broadcast, Shape};
/// let s = broadcast("f", &[("x", Shape::new(&[3, 4])), ("b", Shape::new(&[4])), ("c", Shape::new(&[3, 1]))]);
/// assert_eq!(s, Ok(Shape::new(&[3, 4])));
/// let e = broadcast("f", &[("x", Shape::new(&[3, 4])), ("w", Shape::new(&[5]))]).unwrap_err();
/// assert_eq!(e.to_string(), "kernel `f`: cannot broadcast `w` with shape [5] against `x` with shape [3, 4]");
/// ```
pub fn broadcast(kernel: &'static str, operands: &[(&'static str, Shape)]) -> Result<Shape, KernelError> {
    let rank = operands.iter().map(|(_, s)| s.rank).max().unwrap_or(0);
    let mut out = Shape { dims: [1; MAX_RANK], rank };
    out.dims[rank..].fill(0);
    // Which operand fixed each axis of the result (counted from the last axis), for the error.
    let mut fixed_by: [Option<usize>; MAX_RANK] = [None; MAX_RANK];
    for (k, (name, s)) in operands.iter().enumerate() {
        for (back, fixed) in fixed_by.iter_mut().enumerate().take(s.rank) {
            let len = s.dims[s.rank - 1 - back];
            let slot = rank - 1 - back;
            if len == 1 {
                continue;
            }
            match *fixed {
                None => {
                    out.dims[slot] = len;
                    *fixed = Some(k);
                }
                Some(_) if out.dims[slot] == len => {}
                Some(j) => return Err(broadcast_error(kernel, name, *s, operands[j].0, operands[j].1)),
            }
        }
    }
    Ok(out)
}

/// `shape` (of the operand `name`) fits `target` without growing it: `broadcast` of the two
/// is `target`. Else the same error as [`broadcast`], naming `name` first.
///
/// ```
/// use loopfuse_runtime::nd::{check_fits, Shape};
/// assert!(check_fits("f", "b", Shape::new(&[1, 4]), "out", Shape::new(&[3, 4])).is_ok());
/// let e = check_fits("f", "x", Shape::new(&[2, 3, 4]), "out", Shape::new(&[3, 4])).unwrap_err();
/// assert_eq!(e.to_string(), "kernel `f`: cannot broadcast `x` with shape [2, 3, 4] against `out` with shape [3, 4]");
/// ```
pub fn check_fits(
    kernel: &'static str,
    name: &'static str,
    shape: Shape,
    target_name: &'static str,
    target: Shape,
) -> Result<(), KernelError> {
    if fits(shape, target) {
        Ok(())
    } else {
        Err(broadcast_error(kernel, name, shape, target_name, target))
    }
}

/// `shape` broadcasts to `target` without growing it.
#[inline]
pub(crate) fn fits(shape: Shape, target: Shape) -> bool {
    shape.rank <= target.rank
        && (0..shape.rank).all(|back| {
            let len = shape.dims[shape.rank - 1 - back];
            len == 1 || len == target.dims[target.rank - 1 - back]
        })
}

#[cold]
#[inline(never)]
fn broadcast_error(
    kernel: &'static str,
    left: &'static str,
    left_shape: Shape,
    right: &'static str,
    right_shape: Shape,
) -> KernelError {
    KernelError::Broadcast {
        kernel,
        left,
        left_shape: left_shape.to_string(),
        right,
        right_shape: right_shape.to_string(),
    }
}

/// An axis given at run time (`IxDyn` arrays) is below the rank, else [`KernelError::Axis`].
///
/// ```
/// use loopfuse_runtime::nd::check_axis;
/// assert!(check_axis("f", "x.sum_axis(Axis(1))", 1, 2).is_ok());
/// let e = check_axis("f", "x.sum_axis(Axis(2))", 2, 2).unwrap_err();
/// assert_eq!(e.to_string(), "kernel `f`: `x.sum_axis(Axis(2))`: axis 2 is out of bounds for an array of rank 2");
/// ```
#[inline]
pub fn check_axis(kernel: &'static str, text: &'static str, axis: usize, rank: usize) -> Result<(), KernelError> {
    if axis < rank {
        Ok(())
    } else {
        Err(KernelError::Axis { kernel, text, axis, rank })
    }
}

/// `insert_axis(Axis(axis))` of an array of a rank known only at run time: `axis` is at
/// most the rank, else [`KernelError::Axis`].
///
/// ```
/// use loopfuse_runtime::nd::check_insert;
/// assert!(check_insert("f", "x.insert_axis(Axis(2))", 2, 2).is_ok());
/// let e = check_insert("f", "x.insert_axis(Axis(3))", 3, 2).unwrap_err();
/// assert_eq!(e.to_string(), "kernel `f`: `x.insert_axis(Axis(3))`: axis 3 is out of bounds for an array of rank 2");
/// ```
#[inline]
pub fn check_insert(kernel: &'static str, text: &'static str, axis: usize, rank: usize) -> Result<(), KernelError> {
    if axis <= rank {
        Ok(())
    } else {
        Err(KernelError::Axis { kernel, text, axis, rank })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(d: &[usize]) -> Shape {
        Shape::new(d)
    }

    #[test]
    fn shape_ops() {
        assert_eq!(s(&[]).len(), 1);
        assert!(s(&[3, 0]).is_empty());
        assert_eq!(s(&[2, 3, 4]).remove_axis(1), s(&[2, 4]));
        assert_eq!(s(&[2, 3, 4]).remove_axis(2), s(&[2, 3]));
        assert_eq!(s(&[2, 3]).insert_axis(0), s(&[1, 2, 3]));
        assert_eq!(s(&[2, 3]).insert_axis(2), s(&[2, 3, 1]));
        // The removed slot is zeroed: equal to a shape built directly.
        assert_eq!(s(&[2, 3, 4]).remove_axis(0).insert_axis(0).remove_axis(0), s(&[3, 4]));
        assert_eq!(s(&[]).to_string(), "[]");
        assert_eq!(s(&[7]).to_string(), "[7]");
    }

    #[test]
    #[should_panic(expected = "rank 17 has more than the 16 axes")]
    fn rank_past_max_panics() {
        Shape::new(&[1; 17]);
    }

    #[test]
    #[should_panic(expected = "axis 2 is out of bounds")]
    fn remove_axis_past_rank_panics() {
        s(&[2, 3]).remove_axis(2);
    }

    #[test]
    fn broadcasting() {
        let b = |ops: &[(&'static str, Shape)]| broadcast("f", ops);
        assert_eq!(b(&[]), Ok(s(&[])));
        assert_eq!(b(&[("x", s(&[3, 1])), ("y", s(&[1, 4]))]), Ok(s(&[3, 4])));
        assert_eq!(b(&[("x", s(&[5])), ("y", s(&[2, 1, 1]))]), Ok(s(&[2, 1, 5])));
        assert_eq!(b(&[("x", s(&[0])), ("y", s(&[3, 1]))]), Ok(s(&[3, 0])));
        assert_eq!(b(&[("x", s(&[]))]), Ok(s(&[])));
        // The earlier operand that fixed the length is named, not the first operand.
        let e = b(&[("a", s(&[1])), ("x", s(&[3, 4])), ("w", s(&[5]))]).unwrap_err();
        assert_eq!(e.to_string(), "kernel `f`: cannot broadcast `w` with shape [5] against `x` with shape [3, 4]");
        let e = b(&[("x", s(&[3, 1])), ("y", s(&[2, 4]))]).unwrap_err();
        assert_eq!(e.to_string(), "kernel `f`: cannot broadcast `y` with shape [2, 4] against `x` with shape [3, 1]");
        assert_eq!(
            e,
            KernelError::Broadcast {
                kernel: "f",
                left: "y",
                left_shape: "[2, 4]".into(),
                right: "x",
                right_shape: "[3, 1]".into()
            }
        );
    }

    #[test]
    fn fitting() {
        assert!(fits(s(&[]), s(&[3])));
        assert!(fits(s(&[3, 1]), s(&[2, 3, 4])));
        assert!(!fits(s(&[3, 4]), s(&[3, 1])));
        assert!(!fits(s(&[1, 1, 1]), s(&[1, 1])));
        assert!(check_axis("f", "t", 0, 0).is_err());
    }
}
