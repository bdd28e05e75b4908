//! CPU levels as values, and the one table of their target features.
//!
//! A level token ([`Generic`], [`V2`], [`V3`], [`V4`], [`Neon`]) is a zero-sized value that
//! proves the CPU supports its level: it can only be made by [`Level::try_new`] (which
//! detects), by the unsafe [`Level::new_unchecked`], or inside a kernel's clone for that
//! level (whose features already prove it). Code generic over `L: Level` picks its
//! level-specific path at compile time from [`Level::TARGET`], with no run-time check: the
//! slice helpers `math::exp_slice_at(level, x, out)` and friends do that, so in a kernel's
//! `v4` clone the AVX-512 kernel is called directly. A closure that captures the token (a
//! pass's body, a future parallel job) receives the level by type.
//!
//! ```
//! use loopfuse_runtime::level::{Generic, Level, V4};
//! use loopfuse_runtime::{math, Target};
//! let g = Generic::try_new().unwrap();
//! assert_eq!(Generic::TARGET, Target::Generic);
//! let x = [0.0f64, 1.0];
//! let mut y = [0.0; 2];
//! math::exp_slice_at(g, &x, &mut y);
//! if let Some(v4) = V4::try_new() {
//!     let mut z = [0.0; 2];
//!     math::exp_slice_at(v4, &x, &mut z); // the AVX-512 kernel, chosen at compile time
//!     assert_eq!(y, z);
//! }
//! ```
//!
//! # The table
//!
//! [`__lf_level!`](crate::__lf_level) holds, for each level, its name, `Target` variant (also
//! the token type's name), clone function name, architecture and the complete list of target
//! features its clone enables. Detection (`is_x86_feature_detected!`), the clones'
//! `#[target_feature(enable = ..)]`, the tokens' constructors and the compile-time check
//! that the build's own target features already cover a level (dispatch compiled out) are
//! all expanded from it, so a clone can never enable a feature that detection did not check.

use crate::target::Target;

/// The table of CPU levels: `__lf_level!(v4 => callback { context })` expands to
/// `callback! { context v4 V4 __v4 (target_arch = "x86_64") ["sse3" ...] }`: name, `Target`
/// variant and token type, clone function, `cfg` predicate of the architecture, features.
/// Each list is complete (a level's list contains the lists of the levels below it).
#[doc(hidden)]
#[macro_export]
macro_rules! __lf_level {
    (generic => $($cb:tt)*) => {
        $crate::__lf_level! { @row [generic Generic __generic (all()) []] $($cb)* }
    };
    (v2 => $($cb:tt)*) => {
        $crate::__lf_level! { @row [v2 V2 __v2 (target_arch = "x86_64")
            ["sse3" "ssse3" "sse4.1" "sse4.2" "popcnt"]] $($cb)* }
    };
    (v3 => $($cb:tt)*) => {
        $crate::__lf_level! { @row [v3 V3 __v3 (target_arch = "x86_64")
            ["sse3" "ssse3" "sse4.1" "sse4.2" "popcnt"
             "avx" "avx2" "bmi1" "bmi2" "fma" "lzcnt" "movbe" "f16c"]] $($cb)* }
    };
    (v4 => $($cb:tt)*) => {
        $crate::__lf_level! { @row [v4 V4 __v4 (target_arch = "x86_64")
            ["sse3" "ssse3" "sse4.1" "sse4.2" "popcnt"
             "avx" "avx2" "bmi1" "bmi2" "fma" "lzcnt" "movbe" "f16c"
             "avx512f" "avx512bw" "avx512cd" "avx512dq" "avx512vl"]] $($cb)* }
    };
    (neon => $($cb:tt)*) => {
        $crate::__lf_level! { @row [neon Neon __neon (target_arch = "aarch64") ["neon"]] $($cb)* }
    };
    // The callback is a local macro or `$crate::name` (a path fragment followed by `!`
    // does not parse as a call in expression position, so the path is rebuilt from tokens).
    (@row [$($row:tt)*] $cb:ident { $($ctx:tt)* }) => {
        $cb! { $($ctx)* $($row)* }
    };
    (@row [$($row:tt)*] $krate:tt :: $cb:ident { $($ctx:tt)* }) => {
        $krate::$cb! { $($ctx)* $($row)* }
    };
}

/// Runs `$cb` on every row of the table, in `Target::ALL` order.
macro_rules! each_level {
    ($cb:ident) => {
        $crate::__lf_level!(generic => $cb {});
        $crate::__lf_level!(v2 => $cb {});
        $crate::__lf_level!(v3 => $cb {});
        $crate::__lf_level!(v4 => $cb {});
        $crate::__lf_level!(neon => $cb {});
    };
}

mod sealed {
    pub trait Sealed {}
}

/// A CPU level as a type: implemented by the zero-sized tokens [`Generic`], [`V2`], [`V3`],
/// [`V4`], [`Neon`] only (sealed). A value of the type proves the CPU supports the level.
pub trait Level: Copy + Send + Sync + std::fmt::Debug + 'static + sealed::Sealed {
    /// The level this token stands for.
    const TARGET: Target;
    /// Whether the build's own target features (`-C target-cpu=..`, `-C target-feature=..`)
    /// already include this level's: then every CPU the program runs on has them.
    const STATIC: bool;
    /// Whether the level belongs to the architecture compiled for (`generic`: always).
    const ON_THIS_ARCH: bool;

    /// The token, if this CPU supports the level (detected; `LOOPFUSE_TARGET` and
    /// `with_target` do not matter here).
    fn try_new() -> Option<Self>;

    /// The token, without checking.
    ///
    /// # Safety
    /// The CPU must support every target feature of the level (`Self::TARGET.is_supported()`).
    unsafe fn new_unchecked() -> Self;
}

macro_rules! detect {
    ((all()) []) => {
        true
    };
    ((target_arch = "x86_64") [$($f:tt)*]) => {{
        #[cfg(target_arch = "x86_64")]
        let yes = true $(&& std::arch::is_x86_feature_detected!($f))*;
        #[cfg(not(target_arch = "x86_64"))]
        let yes = false;
        yes
    }};
    ((target_arch = "aarch64") [$($f:tt)*]) => {{
        #[cfg(target_arch = "aarch64")]
        let yes = true $(&& std::arch::is_aarch64_feature_detected!($f))*;
        #[cfg(not(target_arch = "aarch64"))]
        let yes = false;
        yes
    }};
}

macro_rules! token {
    ($name:ident $V:ident $clone:ident ($($arch:tt)*) [$($f:tt)*]) => {
        #[doc = concat!("The `", stringify!($name), "` level as a value (see [`Level`]).")]
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub struct $V {
            _proof: (),
        }

        impl sealed::Sealed for $V {}

        impl Level for $V {
            const TARGET: Target = Target::$V;
            const STATIC: bool = cfg!(all($($arch)*, $(target_feature = $f),*));
            const ON_THIS_ARCH: bool = cfg!($($arch)*);

            #[inline]
            fn try_new() -> Option<Self> {
                // SAFETY: checked just before.
                Self::detected().then(|| unsafe { Self::new_unchecked() })
            }

            #[inline(always)]
            unsafe fn new_unchecked() -> Self {
                $V { _proof: () }
            }
        }

        impl $V {
            /// Whether this CPU has every feature of the level.
            #[inline]
            pub(crate) fn detected() -> bool {
                detect!(($($arch)*) [$($f)*])
            }
        }

        token!(@in_clone $V ($($arch)*) [$($f)*]);
    };
    (@in_clone $V:ident (all()) []) => {
        impl $V {
            /// The token, in the level's clone (every CPU has this level).
            #[doc(hidden)]
            #[inline(always)]
            pub fn __in_clone() -> Self {
                $V { _proof: () }
            }
        }
    };
    (@in_clone $V:ident ($($arch:tt)*) [$($f:tt)*]) => {
        #[cfg($($arch)*)]
        impl $V {
            /// The token, in the level's clone: safe to call only from code compiled with
            /// the level's features, which is what proves the CPU has them.
            #[doc(hidden)]
            #[inline]
            #[target_feature($(enable = $f),*)]
            pub fn __in_clone() -> Self {
                $V { _proof: () }
            }
        }
    };
}

each_level!(token);

/// A generic function to run with the token of a level chosen at run time.
pub trait WithLevel {
    /// What `run` returns.
    type Output;
    /// Runs at level `L`.
    fn run<L: Level>(self, level: L) -> Self::Output;
}

/// Runs `f` with the token of `target`.
///
/// # Safety
/// The CPU must support `target` (`target.is_supported()`; true of every level
/// [`crate::target::level`] reports).
#[inline(always)]
pub unsafe fn dispatch<F: WithLevel>(target: Target, f: F) -> F::Output {
    // SAFETY: the caller guarantees `target` is supported.
    unsafe {
        match target {
            Target::Generic => f.run(Generic::new_unchecked()),
            Target::V2 => f.run(V2::new_unchecked()),
            Target::V3 => f.run(V3::new_unchecked()),
            Target::V4 => f.run(V4::new_unchecked()),
            Target::Neon => f.run(Neon::new_unchecked()),
        }
    }
}

/// Whether the build's target features cover `target` (see [`Level::STATIC`]).
pub(crate) const fn is_static(target: Target) -> bool {
    match target {
        Target::Generic => Generic::STATIC,
        Target::V2 => V2::STATIC,
        Target::V3 => V3::STATIC,
        Target::V4 => V4::STATIC,
        Target::Neon => Neon::STATIC,
    }
}

/// Whether `target` belongs to the architecture compiled for.
pub(crate) const fn on_this_arch(target: Target) -> bool {
    match target {
        Target::Generic => Generic::ON_THIS_ARCH,
        Target::V2 => V2::ON_THIS_ARCH,
        Target::V3 => V3::ON_THIS_ARCH,
        Target::V4 => V4::ON_THIS_ARCH,
        Target::Neon => Neon::ON_THIS_ARCH,
    }
}

/// Whether this CPU supports `target` (detected from the table's features).
pub(crate) fn detected(target: Target) -> bool {
    match target {
        Target::Generic => Generic::detected(),
        Target::V2 => V2::detected(),
        Target::V3 => V3::detected(),
        Target::V4 => V4::detected(),
        Target::Neon => Neon::detected(),
    }
}

/// The per-level clones of a kernel and the call of the best one (what `#[kernel]` emits).
///
/// ```text
/// clones! {
///     __level;                 // the name the body uses for the level token
///     [v4 v3 v2 neon];         // the levels to clone for, best first within an architecture
///     [#[allow(..)]]           // attributes for every clone
///     fn [<T: Float>(x: &[T]) -> T] { body }
///     (&x)                     // the arguments of the call
/// }
/// ```
///
/// expands to a block with one function per level (`__v4`, ..., and `__generic` without
/// features), each containing the body after `let __level = V4::__in_clone();`, so the body
/// and every closure in it are compiled with the level's features. Then the call: if the
/// build's target features already cover the best clone of this architecture, that clone
/// directly; else the best clone at or below [`crate::target::level`].
#[doc(hidden)]
#[macro_export]
macro_rules! __lf_clones {
    (
        $level:ident; [$($lvl:ident)*];
        $attrs:tt
        fn $sig:tt $body:tt
        $args:tt
    ) => {{
        $( $crate::__lf_level!($lvl => $crate::__lf_clone { $level $attrs $sig $body }); )*
        $crate::__lf_level!(generic => $crate::__lf_clone { $level $attrs $sig $body });
        const __STATIC: ::core::option::Option<$crate::Target> =
            $crate::target::static_best(&[$( $crate::__lf_level!($lvl => $crate::__lf_static {}) ),*]);
        let __t = match __STATIC {
            ::core::option::Option::Some(t) => t,
            ::core::option::Option::None => $crate::target::level(),
        };
        '__lf_call: {
            $( $crate::__lf_level!($lvl => $crate::__lf_call { '__lf_call __t $args }); )*
            __generic $args
        }
    }};
}

/// One clone (a row of the table applied to the body).
#[doc(hidden)]
#[macro_export]
macro_rules! __lf_clone {
    ($level:ident [$($attr:tt)*] [$($sig:tt)*] {$($body:tt)*} generic $V:ident $f:ident $arch:tt []) => {
        $($attr)*
        fn $f $($sig)* {
            #[allow(unused_variables)]
            let $level = $crate::level::$V::__in_clone();
            $($body)*
        }
    };
    ($level:ident [$($attr:tt)*] [$($sig:tt)*] {$($body:tt)*} $name:ident $V:ident $f:ident ($($arch:tt)*) [$($feat:tt)*]) => {
        #[cfg($($arch)*)]
        #[target_feature($(enable = $feat),*)]
        $($attr)*
        fn $f $($sig)* {
            #[allow(unused_variables)]
            let $level = $crate::level::$V::__in_clone();
            $($body)*
        }
    };
}

/// `(Target::V4, whether the build's features cover v4)`, for `target::static_best`.
#[doc(hidden)]
#[macro_export]
macro_rules! __lf_static {
    ($name:ident $V:ident $f:ident ($($arch:tt)*) [$($feat:tt)*]) => {
        ($crate::Target::$V, cfg!(all($($arch)*, $(target_feature = $feat),*)))
    };
}

/// One step of the call: the level's clone if the running level reaches it.
#[doc(hidden)]
#[macro_export]
macro_rules! __lf_call {
    ($label:lifetime $t:ident ($($args:tt)*) $name:ident $V:ident $f:ident ($($arch:tt)*) [$($feat:tt)*]) => {
        #[cfg($($arch)*)]
        #[allow(unused_unsafe)]
        {
            if $t.reaches($crate::Target::$V) {
                // SAFETY: `$t` is a level this CPU supports (`level()` reports no other), or
                // one the build's target features cover; the clone needs no feature beyond it.
                break $label unsafe { $f($($args)*) };
            }
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A row as `(Target, features)`, checking its names on the way.
    macro_rules! row {
        ($name:ident $V:ident $clone:ident ($($arch:tt)*) [$($f:tt)*]) => {{
            assert_eq!(Target::$V.name(), stringify!($name));
            assert_eq!(<$V as Level>::TARGET, Target::$V);
            assert_eq!(stringify!($clone), concat!("__", stringify!($name)));
            let features: &[&str] = &[$($f),*];
            (Target::$V, features)
        }};
    }

    #[test]
    fn the_table_has_every_target_in_order_and_lists_grow() {
        let rows = [
            crate::__lf_level!(generic => row {}),
            crate::__lf_level!(v2 => row {}),
            crate::__lf_level!(v3 => row {}),
            crate::__lf_level!(v4 => row {}),
            crate::__lf_level!(neon => row {}),
        ];
        assert_eq!(rows.iter().map(|r| r.0).collect::<Vec<_>>(), Target::ALL);
        // A level's features contain those of every lower level of its architecture.
        for (t, f) in &rows {
            for (u, g) in &rows {
                if t.reaches(*u) {
                    assert!(g.iter().all(|x| f.contains(x)), "{t:?} lacks features of {u:?}");
                }
            }
        }
    }

    #[test]
    fn tokens_exist_exactly_for_supported_levels() {
        assert_eq!(Generic::try_new().is_some(), Target::Generic.is_supported());
        assert_eq!(V2::try_new().is_some(), Target::V2.is_supported());
        assert_eq!(V3::try_new().is_some(), Target::V3.is_supported());
        assert_eq!(V4::try_new().is_some(), Target::V4.is_supported());
        assert_eq!(Neon::try_new().is_some(), Target::Neon.is_supported());
        struct Probe;
        impl WithLevel for Probe {
            type Output = Target;
            fn run<L: Level>(self, _: L) -> Target {
                L::TARGET
            }
        }
        for t in Target::ALL.into_iter().filter(|t| t.is_supported()) {
            // SAFETY: `t` is supported.
            assert_eq!(unsafe { dispatch(t, Probe) }, t);
        }
    }
}
