//! Shared helpers of the math tests: per-level wrappers, ULP distance, a tiny
//! RNG and a 2-thread parallel map.
#![allow(dead_code)]

pub mod dd;

/// Generates, for each slice helper, a module with wrappers compiled at each
/// CPU level: `plain` (the crate's base target), `v3` (AVX2+FMA) and `v4`
/// (AVX-512), plus `levels::<T>()` returning the ones this CPU supports.
#[macro_export]
macro_rules! level_wrappers {
    ($($name:ident),* $(,)?) => {$(
        #[allow(non_snake_case, dead_code)]
        pub mod $name {
            use loopfuse_runtime::math::{Math, $name as f};
            pub type SliceFn<T> = fn(&[T], &mut [T]);

            #[inline(never)]
            pub fn plain<T: Math>(x: &[T], out: &mut [T]) {
                loopfuse_runtime::with_target(loopfuse_runtime::Target::Generic, || f(x, out))
            }

            #[cfg(target_arch = "x86_64")]
            #[target_feature(enable = "avx2,fma")]
            #[inline(never)]
            /// # Safety
            /// The CPU must support the enabled target features.
            pub fn v3<T: Math>(x: &[T], out: &mut [T]) {
                loopfuse_runtime::with_target(loopfuse_runtime::Target::V3, || f(x, out))
            }

            #[cfg(target_arch = "x86_64")]
            #[target_feature(enable = "avx512f,avx512bw,avx512dq,avx512vl,avx2,fma")]
            #[inline(never)]
            /// # Safety
            /// The CPU must support the enabled target features.
            pub fn v4<T: Math>(x: &[T], out: &mut [T]) {
                loopfuse_runtime::with_target(loopfuse_runtime::Target::V4, || f(x, out))
            }

            /// (level name, function) for every level this CPU can run.
            pub fn levels<T: Math>() -> Vec<(&'static str, SliceFn<T>)> {
                #[allow(unused_mut)]
                let mut v: Vec<(&'static str, SliceFn<T>)> = vec![("plain", plain::<T>)];
                #[cfg(target_arch = "x86_64")]
                {
                    if is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma") {
                        // SAFETY: the CPU supports AVX2 and FMA (checked just above).
                        v.push(("v3", |x, o| unsafe { v3(x, o) }));
                    }
                    if is_x86_feature_detected!("avx512f")
                        && is_x86_feature_detected!("avx512bw")
                        && is_x86_feature_detected!("avx512dq")
                        && is_x86_feature_detected!("avx512vl")
                        && is_x86_feature_detected!("avx2")
                        && is_x86_feature_detected!("fma")
                    {
                        // SAFETY: the CPU supports every feature v4 enables (checked above).
                        v.push(("v4", |x, o| unsafe { v4(x, o) }));
                    }
                }
                v
            }

            /// The fastest level available (all levels give the same bits; this
            /// only makes the accuracy tests quicker).
            pub fn best<T: Math>() -> SliceFn<T> {
                levels::<T>().last().unwrap().1
            }
        }
    )*};
}

/// Distance in ULPs between two f64 (±0 equal; NaN vs NaN = 0; NaN vs number = MAX).
pub fn ulp_dist64(a: f64, b: f64) -> u64 {
    if a.is_nan() || b.is_nan() {
        return if a.is_nan() && b.is_nan() { 0 } else { u64::MAX };
    }
    fn ord(x: f64) -> i128 {
        let b = x.to_bits() as i64;
        (if b < 0 { i64::MIN - b } else { b }) as i128
    }
    (ord(a) - ord(b)).unsigned_abs() as u64
}

/// Same for f32.
pub fn ulp_dist32(a: f32, b: f32) -> u64 {
    if a.is_nan() || b.is_nan() {
        return if a.is_nan() && b.is_nan() { 0 } else { u64::MAX };
    }
    fn ord(x: f32) -> i64 {
        let b = x.to_bits() as i32;
        (if b < 0 { i32::MIN - b } else { b }) as i64
    }
    (ord(a) - ord(b)).unsigned_abs()
}

/// Bits equal, or both NaN.
pub fn same64(a: f64, b: f64) -> bool {
    a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan())
}
pub fn same32(a: f32, b: f32) -> bool {
    a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan())
}

/// splitmix64.
pub struct Rng(pub u64);
impl Rng {
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in [0, 1).
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }
    pub fn uniform(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.unit()
    }
    /// Log-uniform magnitude in [2^lo, 2^hi), random sign if `signed`.
    pub fn log_uniform(&mut self, lo: f64, hi: f64, signed: bool) -> f64 {
        let m = self.uniform(lo, hi).exp2();
        if signed && self.next_u64() & 1 == 1 {
            -m
        } else {
            m
        }
    }
    /// Any bit pattern.
    pub fn any_f64(&mut self) -> f64 {
        f64::from_bits(self.next_u64())
    }
}

/// Splits `0..n` in two halves and runs `f(range)` on 2 threads, returning both
/// results.
pub fn par2<R: Send>(n: u64, f: impl Fn(std::ops::Range<u64>) -> R + Sync) -> Vec<R> {
    let mid = n / 2;
    std::thread::scope(|s| {
        let a = s.spawn(|| f(0..mid));
        let b = f(mid..n);
        vec![a.join().unwrap(), b]
    })
}

/// f64 edge inputs: specials, extremes, subnormals, and the neighbours of
/// function-specific thresholds.
pub fn edges64(extra: &[f64]) -> Vec<f64> {
    let mut base = vec![
        0.0,
        -0.0,
        f64::INFINITY,
        f64::NEG_INFINITY,
        f64::NAN,
        f64::MIN_POSITIVE,
        -f64::MIN_POSITIVE,
        f64::from_bits(1),
        -f64::from_bits(1),
        f64::from_bits(0x000f_ffff_ffff_ffff),
        f64::MAX,
        -f64::MAX,
        1.0,
        -1.0,
        0.5,
        -0.5,
        2.0,
        -2.0,
        f64::EPSILON,
        1e-300,
        -1e-300,
        1e300,
        -1e300,
    ];
    base.extend_from_slice(extra);
    let mut out = Vec::new();
    for &b in &base {
        out.push(b);
        if b.is_finite() {
            let mut up = b;
            let mut down = b;
            for _ in 0..4 {
                up = up.next_up();
                down = down.next_down();
                out.push(up);
                out.push(down);
            }
        }
    }
    out
}

pub fn specials64() -> Vec<f64> {
    vec![0.0, -0.0, f64::INFINITY, f64::NEG_INFINITY, f64::NAN, -f64::NAN]
}

/// An input distribution for random tests.
#[derive(Clone, Copy, Debug)]
pub enum Dist {
    /// Uniform in [lo, hi).
    U(f64, f64),
    /// Log-uniform magnitude in [2^lo, 2^hi), signed?
    L(f64, f64, bool),
    /// Any bit pattern.
    Any,
}

impl Rng {
    /// Draws from one of `dists`, chosen uniformly.
    pub fn draw(&mut self, dists: &[Dist]) -> f64 {
        match dists[(self.next_u64() % dists.len() as u64) as usize] {
            Dist::U(lo, hi) => self.uniform(lo, hi),
            Dist::L(lo, hi, s) => self.log_uniform(lo, hi, s),
            Dist::Any => self.any_f64(),
        }
    }
}
