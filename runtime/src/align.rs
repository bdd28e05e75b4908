//! A 64-byte aligned wrapper for the buffers the vector loops read and write.
//!
//! A 64-byte zmm load or store that straddles two cache lines costs two accesses. Stack
//! buffers follow the stack's alignment (16 bytes) unless their type says otherwise: the
//! stage buffers did, and `exp` over 1e5 elements took 0.8 or 1.2-1.7 ns/elem depending on
//! where the process's stack happened to start (`examples/exp_probe.rs`).

use std::ops::{Deref, DerefMut};

/// `T`, placed at a multiple of 64 bytes (one cache line, one zmm register).
///
/// ```
/// use loopfuse_runtime::align::Aligned;
/// let a = Aligned([0.0f64; 8]);
/// assert_eq!(a.as_ptr() as usize % 64, 0);
/// assert_eq!(a.len(), 8);
/// ```
#[derive(Clone, Copy, Default, Debug, PartialEq)]
#[repr(C, align(64))]
pub struct Aligned<T>(pub T);

impl<T> Deref for Aligned<T> {
    type Target = T;
    #[inline(always)]
    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T> DerefMut for Aligned<T> {
    #[inline(always)]
    fn deref_mut(&mut self) -> &mut T {
        &mut self.0
    }
}
