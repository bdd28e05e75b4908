//! The seal of [`crate::KernelInput`] and [`crate::KernelOutput`] (as ndarray's
//! `src/private.rs`): the generated code relies on what those impls promise (lengths,
//! strides, the views' pointers), so only this crate may implement them.

/// Implemented by this crate only; the module is private, so no other crate can name it.
pub trait Sealed {}
