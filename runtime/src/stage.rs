//! Math stages: a pass's calls to hand-vectorized math functions, evaluated a chunk at a
//! time.
//!
//! Inlined into the fused loop body, `exp(x - m)` is the portable scalar formula, which
//! LLVM vectorizes but cannot give what the fastest kernels need (a table held in
//! registers, `vscalefpd`). So for such calls the pass driver computes the argument of
//! [`CHUNK`] elements into a buffer on the stack, calls the slice helper once for the chunk
//! (which runs the level's hand-vectorized kernel), and hands each result to the loop body.
//! The buffers stay in L1 and no array temporary is made. The slice helpers return the same
//! bits as the scalar functions, so reductions and outputs are exactly what the unstaged
//! loop computes.

use crate::align::Aligned;
use std::mem::MaybeUninit;

/// Elements per chunk: a multiple of the pass's lane count. Small, so that the out-of-order
/// core overlaps one chunk's math with the previous chunk's other work (a division, say):
/// sigmoid took 0.91 ns/elem with 32, 1.01 with 64 and 1.21 with 256 (AVX-512, 1e5).
pub const CHUNK: usize = 32;

/// One staged call: its slice function and the chunk's arguments and results.
///
/// Both buffers are 64-byte aligned: the level's kernel reads and writes them a vector at a
/// time, and on the stack's 16-byte alignment every zmm access straddled two cache lines in
/// some launches (`exp` 1.2-1.7 instead of 0.8 ns/elem, depending on where the stack began).
pub struct Stage<T, F> {
    f: F,
    args: Aligned<[MaybeUninit<T>; CHUNK]>,
    values: Aligned<[MaybeUninit<T>; CHUNK]>,
    /// `values[..init]` are initialized (a slice of them can be handed to `f`).
    init: usize,
}

/// A stage computing `f` (a slice helper such as `math::exp_slice`) a chunk at a time.
///
/// ```
/// use loopfuse_runtime::{math, pass::pass_staged, reduce::Sum, stage::stage};
/// let x: &[f64] = &[0.0, 1.0, 2.0];
/// let (s,) = pass_staged(3, (x,), (stage(math::exp_slice),), (Sum::new(),), (), |(x,)| (x,), |_, (e,)| ((e,), ()));
/// assert_eq!(s, 1.0 + math::exp(1.0) + math::exp(2.0));
/// ```
#[inline(always)]
pub fn stage<T: Copy, F: FnMut(&[T], &mut [T])>(f: F) -> Stage<T, F> {
    Stage {
        f,
        args: Aligned([const { MaybeUninit::uninit() }; CHUNK]),
        values: Aligned([const { MaybeUninit::uninit() }; CHUNK]),
        init: 0,
    }
}

/// The same stage with buffers of its own: each chunk of a parallel pass ([`crate::par`])
/// evaluates its stages in its own buffers.
impl<T: Copy, F: Clone> Clone for Stage<T, F> {
    #[inline(always)]
    fn clone(&self) -> Self {
        Stage {
            f: self.f.clone(),
            args: Aligned([const { MaybeUninit::uninit() }; CHUNK]),
            values: Aligned([const { MaybeUninit::uninit() }; CHUNK]),
            init: 0,
        }
    }
}

impl<T: Copy, F: FnMut(&[T], &mut [T])> Stage<T, F> {
    /// # Safety
    /// `j < CHUNK`.
    #[inline(always)]
    unsafe fn store(&mut self, j: usize, arg: T) {
        // SAFETY: j < CHUNK (caller).
        unsafe { self.args.get_unchecked_mut(j) }.write(arg);
    }

    /// # Safety
    /// `len <= CHUNK` and `args[..len]` were stored since the chunk began.
    #[inline(always)]
    unsafe fn run(&mut self, len: usize) {
        // SAFETY: args[..len] are initialized (caller); values[..len] are, once the copy
        // below has initialized the part no earlier chunk did (only the first chunk and a
        // longer tail copy anything); len <= CHUNK keeps both in bounds.
        let (args, values) = unsafe {
            let args = std::slice::from_raw_parts(self.args.as_ptr().cast::<T>(), len);
            let values = self.values.as_mut_ptr().cast::<T>();
            if len > self.init {
                std::ptr::copy_nonoverlapping(args.as_ptr().add(self.init), values.add(self.init), len - self.init);
                self.init = len;
            }
            (args, std::slice::from_raw_parts_mut(values, len))
        };
        (self.f)(args, values);
    }

    /// # Safety
    /// `j` is below the `len` of the last `run`.
    #[inline(always)]
    unsafe fn load(&self, j: usize) -> T {
        // SAFETY: values[..len] were initialized by `run` (caller: j < len).
        unsafe { self.values.get_unchecked(j).assume_init() }
    }
}

/// The stages of one pass: a tuple of [`Stage`]s, or `()` for none.
pub trait Stages {
    /// True for `()`.
    const NONE: bool;
    /// A tuple of each stage's argument for one element.
    type Args;
    /// A tuple of each stage's result for one element.
    type Values;
    /// Stores element `j` of the chunk.
    ///
    /// # Safety
    /// `j < CHUNK`.
    unsafe fn store(&mut self, j: usize, args: Self::Args);
    /// Evaluates elements `0..len` of the chunk.
    ///
    /// # Safety
    /// `len <= CHUNK`, and elements `0..len` were stored since the chunk began.
    unsafe fn run(&mut self, len: usize);
    /// The results of element `j` of the chunk.
    ///
    /// # Safety
    /// `j` is below the `len` of the last `run`.
    unsafe fn load(&self, j: usize) -> Self::Values;
}

impl Stages for () {
    const NONE: bool = true;
    type Args = ();
    type Values = ();
    #[inline(always)]
    unsafe fn store(&mut self, _: usize, _: ()) {}
    #[inline(always)]
    unsafe fn run(&mut self, _: usize) {}
    #[inline(always)]
    unsafe fn load(&self, _: usize) {}
}

/// The same stages, borrowed: the N-d drivers run one 1-D pass per row with them (a chunk
/// never spans two rows, so the buffers need not survive between calls).
impl<M: Stages> Stages for &mut M {
    const NONE: bool = M::NONE;
    type Args = M::Args;
    type Values = M::Values;
    #[inline(always)]
    unsafe fn store(&mut self, j: usize, args: M::Args) {
        // SAFETY: forwarded contract.
        unsafe { (**self).store(j, args) }
    }
    #[inline(always)]
    unsafe fn run(&mut self, len: usize) {
        // SAFETY: forwarded contract.
        unsafe { (**self).run(len) }
    }
    #[inline(always)]
    unsafe fn load(&self, j: usize) -> M::Values {
        // SAFETY: forwarded contract.
        unsafe { (**self).load(j) }
    }
}

/// One stage is a group of one (nesting, [`crate::pass`] module docs).
impl<T: Copy, F: FnMut(&[T], &mut [T])> Stages for Stage<T, F> {
    const NONE: bool = false;
    type Args = T;
    type Values = T;
    #[inline(always)]
    unsafe fn store(&mut self, j: usize, arg: T) {
        // SAFETY: forwarded contract.
        unsafe { Stage::store(self, j, arg) }
    }
    #[inline(always)]
    unsafe fn run(&mut self, len: usize) {
        // SAFETY: forwarded contract.
        unsafe { Stage::run(self, len) }
    }
    #[inline(always)]
    unsafe fn load(&self, j: usize) -> T {
        // SAFETY: forwarded contract.
        unsafe { Stage::load(self, j) }
    }
}

macro_rules! tuples {
    ($( ($($T:ident $i:tt),*) )*) => {$(
        // A tuple of stages, or of groups of stages.
        impl<$($T: Stages),*> Stages for ($($T,)*) {
            const NONE: bool = $($T::NONE &&)* true;
            type Args = ($($T::Args,)*);
            type Values = ($($T::Values,)*);
            #[inline(always)]
            unsafe fn store(&mut self, j: usize, args: Self::Args) {
                // SAFETY: forwarded contract.
                $( unsafe { self.$i.store(j, args.$i) }; )*
            }
            #[inline(always)]
            unsafe fn run(&mut self, len: usize) {
                // SAFETY: forwarded contract.
                $( unsafe { self.$i.run(len) }; )*
            }
            #[inline(always)]
            unsafe fn load(&self, j: usize) -> Self::Values {
                // SAFETY: forwarded contract.
                ($( unsafe { self.$i.load(j) }, )*)
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
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buffers_are_cache_line_aligned() {
        // Below frames of every size modulo 64, so that a buffer placed by the stack's
        // alignment alone would miss at least once.
        fn check<const K: usize>() {
            let pad = [0u8; K];
            std::hint::black_box(&pad);
            let s = stage::<f64, _>(crate::math::exp_slice);
            let s = std::hint::black_box(&s);
            assert_eq!(s.args.as_ptr() as usize % 64, 0);
            assert_eq!(s.values.as_ptr() as usize % 64, 0);
        }
        check::<0>();
        check::<8>();
        check::<16>();
        check::<40>();
    }
}
