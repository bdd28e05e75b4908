//! CPU levels: detection once, the `LOOPFUSE_TARGET` cap, and a scoped per-thread override.
//!
//! Every kernel is compiled once per level; [`level`] picks the clone to call. The level is
//! resolved on first use and cached in an atomic, so a call costs a thread-local read and a
//! relaxed load. When the build's own target features cover a kernel's best clone, the
//! kernel calls it with no read at all ([`static_baseline`]). The feature lists are the
//! table in [`crate::level`].

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

    /// Whether this CPU can run the clone for this level (its features are detected; the
    /// feature lists are the table in [`crate::level`]).
    pub fn is_supported(self) -> bool {
        crate::level::detected(self)
    }

    /// Position in the order of levels of one architecture (higher is faster).
    #[inline(always)]
    const fn rank(self) -> u8 {
        match self {
            Target::Generic => 0,
            Target::V2 => 1,
            Target::V3 => 2,
            Target::V4 => 3,
            Target::Neon => 1,
        }
    }

    /// 0 for `generic` (every architecture), else an id per architecture.
    #[inline(always)]
    const fn arch(self) -> u8 {
        match self {
            Target::Generic => 0,
            Target::V2 | Target::V3 | Target::V4 => 1,
            Target::Neon => 2,
        }
    }

    /// Whether code for level `other` runs at this level: `other` is `generic`, or a level
    /// of the same architecture at or below this one.
    ///
    /// ```
    /// use loopfuse_runtime::Target;
    /// assert!(Target::V4.reaches(Target::V3) && Target::Neon.reaches(Target::Generic));
    /// assert!(!Target::V3.reaches(Target::V4) && !Target::Neon.reaches(Target::V2));
    /// ```
    #[inline(always)]
    pub const fn reaches(self, other: Target) -> bool {
        other.arch() == 0 || (self.arch() == other.arch() && self.rank() >= other.rank())
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

/// The level the build itself requires: the best one whose features are all enabled at
/// compile time (`-C target-cpu=native`, `-C target-feature=..`), `generic` in a default
/// build. Code below it cannot run: every clone, the generic one included, is compiled
/// with at least these features. So it is the lowest level of [`supported_targets`],
/// `LOOPFUSE_TARGET` and [`with_target`] refuse levels below it, and kernels whose best
/// clone it covers call that clone directly, with no check.
///
/// ```
/// let b = loopfuse_runtime::target::static_baseline();
/// assert_eq!(loopfuse_runtime::supported_targets()[0], b);
/// ```
pub fn static_baseline() -> Target {
    let mut best = Target::Generic;
    for t in Target::ALL {
        if crate::level::is_static(t) && t.rank() > best.rank() {
            best = t;
        }
    }
    best
}

/// The clone a kernel calls with no level check: among `clones` (each level with whether
/// the kernel's crate was compiled with its features, best first within an architecture),
/// the first of this architecture, if the build covers it. Called in a `const` by the
/// expansion of `#[kernel]`.
#[doc(hidden)]
pub const fn static_best(clones: &[(Target, bool)]) -> Option<Target> {
    let mut i = 0;
    while i < clones.len() {
        let (t, covered) = clones[i];
        if crate::level::on_this_arch(t) {
            return if covered { Some(t) } else { None };
        }
        i += 1;
    }
    None
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
    let baseline = static_baseline();
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
            Some(t) if !t.reaches(baseline) => panic!(
                "LOOPFUSE_TARGET=`{name}`: this build requires `{}` (compiled with its target features), so `{name}` cannot run",
                baseline.name()
            ),
            Some(t) => t,
        },
    };
    PROCESS_LEVEL.store(chosen as u8, Ordering::Relaxed);
    chosen
}

/// The levels kernels may run at in this process, lowest first: those this CPU supports,
/// from the build's [`static_baseline`] (`generic` unless compiled with target features)
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
    let baseline = static_baseline();
    Target::ALL.into_iter().filter(|&t| t.is_supported() && cap.reaches(t) && t.reaches(baseline)).collect()
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
    scoped(target, f)
}

/// [`with_target`] without the check: for code that already runs at `target` (a chunk of a
/// parallel pass, on a worker thread, inside its level's clone).
#[inline(always)]
pub(crate) fn scoped<R>(target: Target, f: impl FnOnce() -> R) -> R {
    struct Restore(u8);
    impl Drop for Restore {
        fn drop(&mut self) {
            OVERRIDE.with(|o| o.set(self.0));
        }
    }
    let _restore = Restore(OVERRIDE.with(|o| o.replace(target as u8)));
    f()
}
