pub use loopfuse_runtime::{supported_targets, target, with_target, Float, KernelError, Target};
#[doc(hidden)]
pub use loopfuse_runtime::__private;
