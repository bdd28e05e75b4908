//! CPU levels: detection once, the `LOOPFUSE_TARGET` cap, and a scoped per-thread override.
//!
//! Every kernel is compiled once per level; [`level`] picks the clone to call. The level is
//! resolved on first use and cached in an atomic, so a call costs a thread-local read and a
//! relaxed load.

use std::cell::Cell;
use std::sync::atomic::{AtomicU8, Ordering};

/// A CPU level that kernels are cloned for.
///
/// ```
/// use loopfuse_runtime::{target, Target};
/// println!("kernels run at {}", target().name());
/// assert!(Target::Generic.is_supported());
/// ```
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum Target {
    /// Baseline of the architecture (SSE2 on x86_64).
    Generic = 1,
    /// x86-64-v2: SSE3, SSSE3, SSE4.1, SSE4.2, POPCNT.
    V2 = 2,
    /// x86-64-v3: v2 plus AVX, AVX2, BMI1, BMI2, FMA, LZCNT, MOVBE, F16C.
    V3 = 3,
    /// x86-64-v4: v3 plus AVX-512 F, BW, CD, DQ, VL.
    V4 = 4,
    /// aarch64 with NEON.
    Neon = 5,
}

impl Target {
    /// Every level, lowest first within each architecture.
    pub const ALL: [Target; 5] = [Target::Generic, Target::V2, Target::V3, Target::V4, Target::Neon];

    /// The name used by `LOOPFUSE_TARGET` (`generic`, `v2`, `v3`, `v4`, `neon`).
    pub fn name(self) -> &'static str {
        match self {
            Target::Generic => "generic",
            Target::V2 => "v2",
            Target::V3 => "v3",
            Target::V4 => "v4",
            Target::Neon => "neon",
        }
    }

    /// Parses a name as written in `LOOPFUSE_TARGET`.
    pub fn from_name(name: &str) -> Option<Target> {
        Target::ALL.into_iter().find(|t| t.name() == name)
    }

    /// Whether this CPU can run the clone for this level.
    pub fn is_supported(self) -> bool {
        match self {
            Target::Generic => true,
            #[cfg(target_arch = "x86_64")]
            Target::V2 => x86::v2(),
            #[cfg(target_arch = "x86_64")]
            Target::V3 => x86::v2() && x86::v3(),
            #[cfg(target_arch = "x86_64")]
            Target::V4 => x86::v2() && x86::v3() && x86::v4(),
            #[cfg(target_arch = "aarch64")]
            Target::Neon => std::arch::is_aarch64_feature_detected!("neon"),
            #[allow(unreachable_patterns)]
            _ => false,
        }
    }

    /// Position in the order of levels of one architecture (higher is faster).
    fn rank(self) -> u8 {
        match self {
            Target::Generic => 0,
            Target::V2 => 1,
            Target::V3 => 2,
            Target::V4 => 3,
            Target::Neon => 1,
        }
    }

    fn from_u8(v: u8) -> Target {
        match v {
            2 => Target::V2,
            3 => Target::V3,
            4 => Target::V4,
            5 => Target::Neon,
            _ => Target::Generic,
        }
    }
}

// The feature lists must match the `#[target_feature]` strings in `macros/src/dispatch.rs`.
#[cfg(target_arch = "x86_64")]
mod x86 {
    use std::arch::is_x86_feature_detected as has;
    pub fn v2() -> bool {
        has!("sse3") && has!("ssse3") && has!("sse4.1") && has!("sse4.2") && has!("popcnt")
    }
    pub fn v3() -> bool {
        has!("avx")
            && has!("avx2")
            && has!("bmi1")
            && has!("bmi2")
            && has!("fma")
            && has!("lzcnt")
            && has!("movbe")
            && has!("f16c")
    }
    pub fn v4() -> bool {
        has!("avx512f") && has!("avx512bw") && has!("avx512cd") && has!("avx512dq") && has!("avx512vl")
    }
}

/// 0 = not resolved yet; otherwise a `Target` discriminant.
static PROCESS_LEVEL: AtomicU8 = AtomicU8::new(0);

thread_local! {
    /// 0 = no override on this thread.
    static OVERRIDE: Cell<u8> = const { Cell::new(0) };
}

/// The level whose clone a kernel call on this thread runs: the scoped override if any,
/// else the process level (best detected, capped by `LOOPFUSE_TARGET`).
///
/// # Panics
/// On first use, if `LOOPFUSE_TARGET` names an unknown level or one this CPU lacks.
#[inline]
pub fn level() -> Target {
    let o = OVERRIDE.with(Cell::get);
    if o != 0 {
        return Target::from_u8(o);
    }
    match PROCESS_LEVEL.load(Ordering::Relaxed) {
        0 => resolve(),
        v => Target::from_u8(v),
    }
}

/// The level kernels run at on this thread (see [`level`]).
///
/// ```
/// let t = loopfuse_runtime::target();
/// assert!(t.is_supported());
/// ```
pub fn target() -> Target {
    level()
}

fn best_detected() -> Target {
    let mut best = Target::Generic;
    for t in Target::ALL {
        if t.is_supported() && t.rank() > best.rank() {
            best = t;
        }
    }
    best
}

#[cold]
#[inline(never)]
fn resolve() -> Target {
    let best = best_detected();
    let chosen = match std::env::var("LOOPFUSE_TARGET") {
        Err(std::env::VarError::NotPresent) => best,
        Err(std::env::VarError::NotUnicode(v)) => {
            panic!("LOOPFUSE_TARGET={v:?} is not a loopfuse target; expected one of generic, v2, v3, v4, neon")
        }
        Ok(name) => match Target::from_name(name.trim()) {
            None => {
                panic!("LOOPFUSE_TARGET=`{name}` is not a loopfuse target; expected one of generic, v2, v3, v4, neon")
            }
            Some(t) if !t.is_supported() => panic!(
                "LOOPFUSE_TARGET=`{name}`: this CPU does not support `{name}` (best supported: `{}`)",
                best.name()
            ),
            Some(t) => t,
        },
    };
    PROCESS_LEVEL.store(chosen as u8, Ordering::Relaxed);
    chosen
}

/// The levels kernels may run at in this process, lowest first: those this CPU supports,
/// up to the `LOOPFUSE_TARGET` cap.
///
/// ```
/// for t in loopfuse_runtime::supported_targets() {
///     assert!(t.is_supported());
/// }
/// ```
pub fn supported_targets() -> Vec<Target> {
    let cap = match PROCESS_LEVEL.load(Ordering::Relaxed) {
        0 => resolve(),
        v => Target::from_u8(v),
    };
    let arch_of = |t: Target| matches!(t, Target::Neon);
    Target::ALL
        .into_iter()
        .filter(|&t| t.is_supported() && (t == Target::Generic || arch_of(t) == arch_of(cap)) && t.rank() <= cap.rank())
        .collect()
}

/// Runs `f` with every kernel call on this thread dispatched to the clone for `target`.
/// Overrides nest and are restored when `f` returns or panics. Tests use it to run one
/// kernel at every level in one process.
///
/// # Panics
/// If `target` is not in [`supported_targets`].
///
/// ```
/// use loopfuse_runtime::{supported_targets, target, with_target};
/// for t in supported_targets() {
///     with_target(t, || assert_eq!(target(), t));
/// }
/// ```
pub fn with_target<R>(target: Target, f: impl FnOnce() -> R) -> R {
    assert!(
        supported_targets().contains(&target),
        "loopfuse: target `{}` is not supported here (supported: {:?})",
        target.name(),
        supported_targets().iter().map(|t| t.name()).collect::<Vec<_>>()
    );
    struct Restore(u8);
    impl Drop for Restore {
        fn drop(&mut self) {
            OVERRIDE.with(|o| o.set(self.0));
        }
    }
    let _restore = Restore(OVERRIDE.with(|o| o.replace(target as u8)));
    f()
}
