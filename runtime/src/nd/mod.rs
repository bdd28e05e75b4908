//! The N-d runtime: shapes and broadcasting, N-d views and fresh results, and the pass
//! drivers over them, built on the 1-D driver ([`crate::pass`]) and bit-identical to it.
//!
//! - [`shape`]: [`Shape`], [`broadcast`], [`check_fits`], [`check_axis`].
//! - [`view`]: [`NdView`] (ptr, shape, strides; any stride), [`NdInput`] (ndarray inputs),
//!   [`prefers_f`] (the order of a fresh result).
//! - [`out`]: [`NdOut`], a fresh result written once.
//! - [`index`]: elements by index, checked per access (`x[[i, j]]` in loops that run in order).
//! - [`operand`]: the tuples of sources and sinks the drivers take, nested past 12.
//! - `order` (private): the loop order from the strides, and collapsing contiguous axes.
//! - [`pass`](mod@pass): elementwise passes and whole reductions ([`pass()`],
//!   [`pass_staged`], [`pass_strict`]).
//! - [`block`]: a chain of passes run by blocks along one axis ([`block_len`], [`NdOut::block`]).
//! - [`axis`]: axis reductions ([`axis_pass`], [`axis_pass_staged`], [`axis_pass_strict`]).
//! - [`window`]: what one access of a loop nest reads (`u[[i - 1, j]]`), checked once.
//! - [`par`](mod@par): the same drivers and chains on rayon's pool, for `#[kernel(parallel)]`,
//!   with the serial bits for every thread count.
//!
//! Generated code reaches all of this as `__lf::nd::...`.

pub mod axis;
pub mod block;
pub mod index;
pub mod inout;
pub mod operand;
mod order;
pub mod out;
pub mod pack;
pub mod par;
pub mod pass;
pub mod shape;
pub mod view;
pub mod window;

#[cfg(test)]
mod tests;

pub use axis::{axis_pass, axis_pass_staged, axis_pass_strict, axis_pass_then};
pub use block::{block_len, NdBlock};
pub use inout::{NdOutput, NdViewMut};
pub use operand::{Mapped, MappedRows, NdSink, NdSinks, NdSource, NdSources};
pub use out::NdOut;
pub use pass::{pass, pass_staged, pass_strict};
pub use shape::{broadcast, check_axis, check_fits, check_insert, Shape, MAX_RANK};
pub use view::{prefers_f, Along, NdInput, NdView};
pub use window::Win;
