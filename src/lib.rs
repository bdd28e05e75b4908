pub use loopfuse_macros::kernel;
pub use loopfuse_runtime::{math, supported_targets, target, with_target, Float, KernelError, Target};
#[doc(hidden)]
pub use loopfuse_runtime::__private;
