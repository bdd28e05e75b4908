//! Integer scans in x86 vector registers: a log-step (Hillis-Steele) prefix per register,
//! then the running value of the elements before it combined into every lane.
//!
//! For a register `v` of `L` lanes, `log2(L)` steps `v = v op (v shifted up by k lanes)`,
//! `k = 1, 2, 4, ..`, the lanes shifted in being the operation's identity, leave lane `i`
//! holding `v[0] op .. op v[i]`. With the carry `c` (the running value before the
//! register) `c op prefix` is the scan of the register, and `c op last(prefix)` the carry
//! of the next. Wrapping `+`, wrapping `*`, `max` and `min` of integers are associative
//! and commutative, so every grouping gives the bits of the sequential loop.
//!
//! The carry chain from one register to the next is one `op` (the prefix and its last
//! lane do not depend on the carry), so the loop runs at the throughput of its shuffles.
//!
//! One generic loop ([`scan_regs`]) over a register width ([`Reg`]: `v2`'s xmm, `v3`'s
//! ymm, `v4`'s zmm) and an element type's operations at that width ([`Lanes`]); each
//! level's entry point enables that level's features, from the table in `level.rs`.

use super::{CumMax, CumMin, CumProd, CumSum, Running};
use crate::level::Level;
use crate::Target;
use std::arch::x86_64::*;

/// One register width: loads, stores and the two shuffles of the prefix.
///
/// # Safety (of every method)
/// The CPU has the features of the register's level (the entry points enable them), and
/// pointers are valid for `BYTES` bytes (or the `bytes` given).
pub(super) trait Reg: Copy {
    /// The register's size in bytes.
    const BYTES: usize;
    /// Whether a part of a register can be loaded and stored (`v4`'s masks): the tail of a
    /// slice then runs in the register too.
    const PARTIAL: bool;
    unsafe fn load(p: *const u8) -> Self;
    unsafe fn store(self, p: *mut u8);
    /// The first `bytes` bytes from `p`, the others from `fill` (only if `PARTIAL`).
    unsafe fn load_part(p: *const u8, bytes: usize, fill: Self) -> Self;
    /// Stores the first `bytes` bytes (only if `PARTIAL`).
    unsafe fn store_part(self, p: *mut u8, bytes: usize);
    /// Byte `j` becomes byte `j - k` (`k` a power of two below `BYTES`), the low `k` bytes
    /// those of `fill`.
    unsafe fn shift_up(self, fill: Self, k: usize) -> Self;
    /// The last `size`-byte element in every element.
    unsafe fn last(self, size: usize) -> Self;
}

/// An integer type's lane operations in registers `R`.
///
/// # Safety (of every method)
/// As [`Reg`]'s.
pub(super) trait Lanes<R: Reg>: Copy {
    /// Whether `R` has a lane multiply for this type (`mul` is unreachable otherwise).
    const MUL: bool;
    unsafe fn splat(x: Self) -> R;
    unsafe fn add(a: R, b: R) -> R;
    unsafe fn mul(a: R, b: R) -> R;
    unsafe fn max(a: R, b: R) -> R;
    unsafe fn min(a: R, b: R) -> R;
}

/// The scalar operations of the integer types: the wrapping ones of a release build.
pub(super) trait Int: Copy {
    fn wrapping_add(self, x: Self) -> Self;
    fn wrapping_mul(self, x: Self) -> Self;
    fn max(self, x: Self) -> Self;
    fn min(self, x: Self) -> Self;
}

/// A scan's operation on registers and, for the tail, on scalars.
pub(super) trait VecOp<T, R: Reg> {
    /// Whether registers `R` can run this scan on `T`.
    const OK: bool;
    /// # Safety
    /// As [`Reg`]'s; `OK`.
    unsafe fn apply(a: R, b: R) -> R;
    fn scalar(a: T, b: T) -> T;
}

macro_rules! vec_op {
    ($($op:ident: $ok:expr, $lanes:ident, $int:ident;)*) => {$(
        impl<T: Lanes<R> + Int, R: Reg> VecOp<T, R> for $op {
            const OK: bool = $ok;
            #[inline(always)]
            unsafe fn apply(a: R, b: R) -> R {
                // SAFETY: forwarded contract.
                unsafe { <T as Lanes<R>>::$lanes(a, b) }
            }
            #[inline(always)]
            fn scalar(a: T, b: T) -> T {
                <T as Int>::$int(a, b)
            }
        }
    )*};
}
vec_op! {
    CumSum: true, add, wrapping_add;
    CumProd: T::MUL, mul, wrapping_mul;
    CumMax: true, max, max;
    CumMin: true, min, min;
}

/// Scans `x` into `out` from the running value `carry` a register at a time; returns the
/// running value after the last element.
///
/// # Safety
/// The CPU has the features of `R`'s level; `x.len() == out.len()`; `O::OK`.
#[inline(always)]
unsafe fn scan_regs<R: Reg, T: Lanes<R> + Int + Running<O>, O: VecOp<T, R>>(carry: T, x: &[T], out: &mut [T]) -> T {
    let size = std::mem::size_of::<T>();
    let (n, lanes) = (x.len(), R::BYTES / size);
    let (src, dst) = (x.as_ptr().cast::<u8>(), out.as_mut_ptr().cast::<u8>());
    // SAFETY: the level's features (caller); every access is within `x` / `out`, which
    // have `n` elements (caller), at byte offsets below `n * size`.
    unsafe {
        let fill = T::splat(<T as Running<O>>::start());
        let mut c = T::splat(carry);
        let mut i = 0;
        while i + lanes <= n {
            let p = prefix::<R, T, O>(R::load(src.add(i * size)), fill);
            O::apply(c, p).store(dst.add(i * size));
            c = O::apply(c, p.last(size));
            i += lanes;
        }
        if i < n && R::PARTIAL {
            let bytes = (n - i) * size;
            let p = prefix::<R, T, O>(R::load_part(src.add(i * size), bytes, fill), fill);
            O::apply(c, p).store_part(dst.add(i * size), bytes);
            return *out.get_unchecked(n - 1);
        }
        let mut acc = if i == 0 { carry } else { *out.get_unchecked(i - 1) };
        for j in i..n {
            acc = O::scalar(acc, *x.get_unchecked(j));
            *out.get_unchecked_mut(j) = acc;
        }
        acc
    }
}

/// The log-step prefix of one register: lane `i` becomes `v[0] op .. op v[i]`. A function,
/// not a closure: a closure would not inherit the features of the entry it is inlined into,
/// and the intrinsics would stay out of line (9 ns/elem instead of a fraction).
///
/// # Safety
/// As [`Reg`]'s; `O::OK`.
#[inline(always)]
unsafe fn prefix<R: Reg, T: Lanes<R>, O: VecOp<T, R>>(mut v: R, fill: R) -> R {
    let mut k = std::mem::size_of::<T>();
    while k < R::BYTES {
        // SAFETY: forwarded contract.
        v = unsafe { O::apply(v, v.shift_up(fill, k)) };
        k *= 2;
    }
    v
}

/// Every register width's operations: what [`scan_at`] needs of an element type.
pub(super) trait Vectorized: Lanes<__m128i> + Lanes<__m256i> + Lanes<__m512i> + Int {}
impl<T: Lanes<__m128i> + Lanes<__m256i> + Lanes<__m512i> + Int> Vectorized for T {}

/// A level's entry point: [`scan_regs`] with the level's features (a row of the table).
macro_rules! entry {
    ($R:ty; $name:ident $V:ident $clone:ident ($($arch:tt)*) [$($f:tt)*]) => {
        /// # Safety
        /// The CPU has the level's features; `x.len() == out.len()`; `O::OK`.
        #[target_feature($(enable = $f),*)]
        #[inline]
        unsafe fn $name<T: Lanes<$R> + Int + Running<O>, O: VecOp<T, $R>>(carry: T, x: &[T], out: &mut [T]) -> T {
            // SAFETY: forwarded contract.
            unsafe { scan_regs::<$R, T, O>(carry, x, out) }
        }
    };
}
crate::__lf_level!(v2 => entry { __m128i; });
crate::__lf_level!(v3 => entry { __m256i; });
crate::__lf_level!(v4 => entry { __m512i; });

/// Scans `x` into `out` (same length, the caller's to check) in level `L`'s registers and
/// returns the running value after it, or `None` if `L` has no registers for this scan
/// (`generic`; a product of 8-bit lanes, or of 64-bit ones below `v4`). Chosen at compile
/// time from `L`.
#[inline(always)]
pub(super) fn scan_at<L: Level, T, O>(level: L, carry: T, x: &[T], out: &mut [T]) -> Option<T>
where
    T: Vectorized + Running<O>,
    O: VecOp<T, __m128i> + VecOp<T, __m256i> + VecOp<T, __m512i>,
{
    let _ = level;
    debug_assert_eq!(x.len(), out.len());
    // A stage's chunk is 32 elements: bytes fill half a zmm register, and the ymm loop
    // (one register a chunk) measured 0.13 against 0.29 ns/elem for the masked zmm one.
    let zmm = <__m512i as Reg>::BYTES / std::mem::size_of::<T>() <= crate::stage::CHUNK;
    // SAFETY: a token of type `L` exists only on a CPU with every feature of its level
    // (`level.rs`; v4's list contains v3's), and each entry enables no more than its level's;
    // the lengths are equal (caller); `OK` is checked first.
    unsafe {
        match L::TARGET {
            Target::V4 if zmm && <O as VecOp<T, __m512i>>::OK => Some(v4::<T, O>(carry, x, out)),
            Target::V4 | Target::V3 if <O as VecOp<T, __m256i>>::OK => Some(v3::<T, O>(carry, x, out)),
            Target::V2 if <O as VecOp<T, __m128i>>::OK => Some(v2::<T, O>(carry, x, out)),
            _ => None,
        }
    }
}

// ---- the register widths ------------------------------------------------------------------------

impl Reg for __m128i {
    const BYTES: usize = 16;
    const PARTIAL: bool = false;
    #[inline(always)]
    unsafe fn load(p: *const u8) -> Self {
        // SAFETY: forwarded contract.
        unsafe { _mm_loadu_si128(p.cast()) }
    }
    #[inline(always)]
    unsafe fn store(self, p: *mut u8) {
        // SAFETY: forwarded contract.
        unsafe { _mm_storeu_si128(p.cast(), self) }
    }
    unsafe fn load_part(_: *const u8, _: usize, _: Self) -> Self {
        unreachable!("no partial registers at v2")
    }
    unsafe fn store_part(self, _: *mut u8, _: usize) {
        unreachable!("no partial registers at v2")
    }
    #[inline(always)]
    unsafe fn shift_up(self, fill: Self, k: usize) -> Self {
        // SAFETY: SSSE3 (v2).
        unsafe {
            match k {
                1 => _mm_alignr_epi8::<15>(self, fill),
                2 => _mm_alignr_epi8::<14>(self, fill),
                4 => _mm_alignr_epi8::<12>(self, fill),
                8 => _mm_alignr_epi8::<8>(self, fill),
                _ => unreachable!(),
            }
        }
    }
    #[inline(always)]
    unsafe fn last(self, size: usize) -> Self {
        // SAFETY: SSSE3 (v2).
        unsafe {
            match size {
                1 => _mm_shuffle_epi8(self, _mm_set1_epi8(15)),
                2 => _mm_shuffle_epi8(self, _mm_set1_epi16(0x0f0e)),
                4 => _mm_shuffle_epi32::<0xff>(self),
                _ => _mm_unpackhi_epi64(self, self),
            }
        }
    }
}

impl Reg for __m256i {
    const BYTES: usize = 32;
    const PARTIAL: bool = false;
    #[inline(always)]
    unsafe fn load(p: *const u8) -> Self {
        // SAFETY: forwarded contract.
        unsafe { _mm256_loadu_si256(p.cast()) }
    }
    #[inline(always)]
    unsafe fn store(self, p: *mut u8) {
        // SAFETY: forwarded contract.
        unsafe { _mm256_storeu_si256(p.cast(), self) }
    }
    unsafe fn load_part(_: *const u8, _: usize, _: Self) -> Self {
        unreachable!("no partial registers at v3")
    }
    unsafe fn store_part(self, _: *mut u8, _: usize) {
        unreachable!("no partial registers at v3")
    }
    #[inline(always)]
    unsafe fn shift_up(self, fill: Self, k: usize) -> Self {
        // `alignr` shifts within each 128-bit half: the low half takes its bytes from
        // `fill`, the high half from the low half (`t`: fill's half below self's low half).
        // SAFETY: AVX2 (v3).
        unsafe {
            let t = _mm256_permute2x128_si256::<0x02>(self, fill);
            match k {
                1 => _mm256_alignr_epi8::<15>(self, t),
                2 => _mm256_alignr_epi8::<14>(self, t),
                4 => _mm256_alignr_epi8::<12>(self, t),
                8 => _mm256_alignr_epi8::<8>(self, t),
                16 => t,
                _ => unreachable!(),
            }
        }
    }
    #[inline(always)]
    unsafe fn last(self, size: usize) -> Self {
        // SAFETY: AVX2 (v3).
        unsafe {
            match size {
                1 => _mm256_shuffle_epi8(_mm256_permute2x128_si256::<0x11>(self, self), _mm256_set1_epi8(15)),
                2 => _mm256_shuffle_epi8(_mm256_permute2x128_si256::<0x11>(self, self), _mm256_set1_epi16(0x0f0e)),
                4 => _mm256_permutevar8x32_epi32(self, _mm256_set1_epi32(7)),
                _ => _mm256_permute4x64_epi64::<0xff>(self),
            }
        }
    }
}

impl Reg for __m512i {
    const BYTES: usize = 64;
    const PARTIAL: bool = true;
    #[inline(always)]
    unsafe fn load(p: *const u8) -> Self {
        // SAFETY: forwarded contract.
        unsafe { _mm512_loadu_si512(p.cast()) }
    }
    #[inline(always)]
    unsafe fn store(self, p: *mut u8) {
        // SAFETY: forwarded contract.
        unsafe { _mm512_storeu_si512(p.cast(), self) }
    }
    #[inline(always)]
    unsafe fn load_part(p: *const u8, bytes: usize, fill: Self) -> Self {
        // SAFETY: AVX-512BW (v4); masked-off bytes are not read (no fault past the slice).
        unsafe { _mm512_mask_loadu_epi8(fill, byte_mask(bytes), p.cast()) }
    }
    #[inline(always)]
    unsafe fn store_part(self, p: *mut u8, bytes: usize) {
        // SAFETY: AVX-512BW (v4); masked-off bytes are not written.
        unsafe { _mm512_mask_storeu_epi8(p.cast(), byte_mask(bytes), self) }
    }
    #[inline(always)]
    unsafe fn shift_up(self, fill: Self, k: usize) -> Self {
        // Whole dwords shift across the register in one `valignd`; a byte or word shift is
        // an `alignr` within 128-bit quarters, below which the quarter under it is shifted.
        // SAFETY: AVX-512F and BW (v4).
        unsafe {
            match k {
                1 => _mm512_alignr_epi8::<15>(self, _mm512_alignr_epi32::<12>(self, fill)),
                2 => _mm512_alignr_epi8::<14>(self, _mm512_alignr_epi32::<12>(self, fill)),
                4 => _mm512_alignr_epi32::<15>(self, fill),
                8 => _mm512_alignr_epi32::<14>(self, fill),
                16 => _mm512_alignr_epi32::<12>(self, fill),
                32 => _mm512_alignr_epi32::<8>(self, fill),
                _ => unreachable!(),
            }
        }
    }
    #[inline(always)]
    unsafe fn last(self, size: usize) -> Self {
        // SAFETY: AVX-512F and BW (v4).
        unsafe {
            match size {
                1 => _mm512_shuffle_epi8(_mm512_shuffle_i32x4::<0xff>(self, self), _mm512_set1_epi8(15)),
                2 => _mm512_permutexvar_epi16(_mm512_set1_epi16(31), self),
                4 => _mm512_permutexvar_epi32(_mm512_set1_epi32(15), self),
                _ => _mm512_permutexvar_epi64(_mm512_set1_epi64(7), self),
            }
        }
    }
}

/// The mask of the first `bytes` bytes of a zmm register (`bytes <= 64`).
#[inline(always)]
fn byte_mask(bytes: usize) -> u64 {
    if bytes >= 64 {
        !0
    } else {
        (1u64 << bytes) - 1
    }
}

// ---- the element types (isize and usize as the 64-bit ones: `scan.rs` compiles this
// module for 64-bit pointers only) --------------------------------------------------------------------------

macro_rules! int {
    ($($t:ty)*) => {$(
        impl Int for $t {
            #[inline(always)]
            fn wrapping_add(self, x: Self) -> Self { <$t>::wrapping_add(self, x) }
            #[inline(always)]
            fn wrapping_mul(self, x: Self) -> Self { <$t>::wrapping_mul(self, x) }
            #[inline(always)]
            fn max(self, x: Self) -> Self { Ord::max(self, x) }
            #[inline(always)]
            fn min(self, x: Self) -> Self { Ord::min(self, x) }
        }
    )*};
}
int!(i8 i16 i32 i64 isize u8 u16 u32 u64 usize);

/// `Lanes<R>` for types: `splat` (with the cast to the intrinsic's argument), `add`, `mul`
/// (`-` if none), `max`, `min`: intrinsic names.
macro_rules! lanes {
    ($R:ty; $($t:ty: $splat:ident as $s:ty, $add:ident, $mul:tt, $max:ident, $min:ident;)*) => {$(
        impl Lanes<$R> for $t {
            const MUL: bool = lanes!(@has $mul);
            #[inline(always)]
            unsafe fn splat(x: Self) -> $R {
                // SAFETY: the register's level (caller).
                unsafe { $splat(x as $s) }
            }
            #[inline(always)]
            unsafe fn add(a: $R, b: $R) -> $R {
                // SAFETY: the register's level (caller).
                unsafe { $add(a, b) }
            }
            #[inline(always)]
            unsafe fn mul(a: $R, b: $R) -> $R {
                // SAFETY: the register's level (caller).
                lanes!(@mul $mul a b)
            }
            #[inline(always)]
            unsafe fn max(a: $R, b: $R) -> $R {
                // SAFETY: the register's level (caller).
                unsafe { $max(a, b) }
            }
            #[inline(always)]
            unsafe fn min(a: $R, b: $R) -> $R {
                // SAFETY: the register's level (caller).
                unsafe { $min(a, b) }
            }
        }
    )*};
    (@has -) => { false };
    (@has $f:ident) => { true };
    (@mul - $a:ident $b:ident) => {{
        let _ = ($a, $b);
        unreachable!("no lane multiply")
    }};
    (@mul $f:ident $a:ident $b:ident) => { unsafe { $f($a, $b) } };
}

// 64-bit extrema below AVX-512: a comparison and a blend (unsigned: with the sign bits
// flipped, which orders unsigned values as signed ones).
macro_rules! extrema_64 {
    ($R:ty, $gt:ident, $blend:ident, $xor:ident, $set1:ident; $($name:ident: $flip:expr, $pick_b_if_greater:expr;)*) => {$(
        #[inline(always)]
        unsafe fn $name(a: $R, b: $R) -> $R {
            // SAFETY: the register's level (caller: SSE4.2 for xmm, AVX2 for ymm).
            unsafe {
                let flip = $set1($flip);
                let b_greater = $gt($xor(b, flip), $xor(a, flip));
                if $pick_b_if_greater { $blend(a, b, b_greater) } else { $blend(b, a, b_greater) }
            }
        }
    )*};
}
extrema_64! { __m128i, _mm_cmpgt_epi64, _mm_blendv_epi8, _mm_xor_si128, _mm_set1_epi64x;
    max_i64x2: 0, true; min_i64x2: 0, false;
    max_u64x2: i64::MIN, true; min_u64x2: i64::MIN, false;
}
extrema_64! { __m256i, _mm256_cmpgt_epi64, _mm256_blendv_epi8, _mm256_xor_si256, _mm256_set1_epi64x;
    max_i64x4: 0, true; min_i64x4: 0, false;
    max_u64x4: i64::MIN, true; min_u64x4: i64::MIN, false;
}

lanes! { __m128i;
    i8: _mm_set1_epi8 as i8, _mm_add_epi8, -, _mm_max_epi8, _mm_min_epi8;
    u8: _mm_set1_epi8 as i8, _mm_add_epi8, -, _mm_max_epu8, _mm_min_epu8;
    i16: _mm_set1_epi16 as i16, _mm_add_epi16, _mm_mullo_epi16, _mm_max_epi16, _mm_min_epi16;
    u16: _mm_set1_epi16 as i16, _mm_add_epi16, _mm_mullo_epi16, _mm_max_epu16, _mm_min_epu16;
    i32: _mm_set1_epi32 as i32, _mm_add_epi32, _mm_mullo_epi32, _mm_max_epi32, _mm_min_epi32;
    u32: _mm_set1_epi32 as i32, _mm_add_epi32, _mm_mullo_epi32, _mm_max_epu32, _mm_min_epu32;
    i64: _mm_set1_epi64x as i64, _mm_add_epi64, -, max_i64x2, min_i64x2;
    u64: _mm_set1_epi64x as i64, _mm_add_epi64, -, max_u64x2, min_u64x2;
}
lanes! { __m128i;
    isize: _mm_set1_epi64x as i64, _mm_add_epi64, -, max_i64x2, min_i64x2;
    usize: _mm_set1_epi64x as i64, _mm_add_epi64, -, max_u64x2, min_u64x2;
}

lanes! { __m256i;
    i8: _mm256_set1_epi8 as i8, _mm256_add_epi8, -, _mm256_max_epi8, _mm256_min_epi8;
    u8: _mm256_set1_epi8 as i8, _mm256_add_epi8, -, _mm256_max_epu8, _mm256_min_epu8;
    i16: _mm256_set1_epi16 as i16, _mm256_add_epi16, _mm256_mullo_epi16, _mm256_max_epi16, _mm256_min_epi16;
    u16: _mm256_set1_epi16 as i16, _mm256_add_epi16, _mm256_mullo_epi16, _mm256_max_epu16, _mm256_min_epu16;
    i32: _mm256_set1_epi32 as i32, _mm256_add_epi32, _mm256_mullo_epi32, _mm256_max_epi32, _mm256_min_epi32;
    u32: _mm256_set1_epi32 as i32, _mm256_add_epi32, _mm256_mullo_epi32, _mm256_max_epu32, _mm256_min_epu32;
    i64: _mm256_set1_epi64x as i64, _mm256_add_epi64, -, max_i64x4, min_i64x4;
    u64: _mm256_set1_epi64x as i64, _mm256_add_epi64, -, max_u64x4, min_u64x4;
}
lanes! { __m256i;
    isize: _mm256_set1_epi64x as i64, _mm256_add_epi64, -, max_i64x4, min_i64x4;
    usize: _mm256_set1_epi64x as i64, _mm256_add_epi64, -, max_u64x4, min_u64x4;
}

lanes! { __m512i;
    i8: _mm512_set1_epi8 as i8, _mm512_add_epi8, -, _mm512_max_epi8, _mm512_min_epi8;
    u8: _mm512_set1_epi8 as i8, _mm512_add_epi8, -, _mm512_max_epu8, _mm512_min_epu8;
    i16: _mm512_set1_epi16 as i16, _mm512_add_epi16, _mm512_mullo_epi16, _mm512_max_epi16, _mm512_min_epi16;
    u16: _mm512_set1_epi16 as i16, _mm512_add_epi16, _mm512_mullo_epi16, _mm512_max_epu16, _mm512_min_epu16;
    i32: _mm512_set1_epi32 as i32, _mm512_add_epi32, _mm512_mullo_epi32, _mm512_max_epi32, _mm512_min_epi32;
    u32: _mm512_set1_epi32 as i32, _mm512_add_epi32, _mm512_mullo_epi32, _mm512_max_epu32, _mm512_min_epu32;
    i64: _mm512_set1_epi64 as i64, _mm512_add_epi64, _mm512_mullo_epi64, _mm512_max_epi64, _mm512_min_epi64;
    u64: _mm512_set1_epi64 as i64, _mm512_add_epi64, _mm512_mullo_epi64, _mm512_max_epu64, _mm512_min_epu64;
}
lanes! { __m512i;
    isize: _mm512_set1_epi64 as i64, _mm512_add_epi64, _mm512_mullo_epi64, _mm512_max_epi64, _mm512_min_epi64;
    usize: _mm512_set1_epi64 as i64, _mm512_add_epi64, _mm512_mullo_epi64, _mm512_max_epu64, _mm512_min_epu64;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::level::{V2, V3, V4};

    /// The wrapping scan, element by element: what every register width must give.
    fn reference<T: Copy, O: VecOp<T, __m128i>>(mut acc: T, x: &[T]) -> (Vec<T>, T) {
        let out = x
            .iter()
            .map(|&v| {
                acc = O::scalar(acc, v);
                acc
            })
            .collect();
        (out, acc)
    }

    fn xorshift(state: &mut u64) -> u64 {
        *state ^= *state << 13;
        *state ^= *state >> 7;
        *state ^= *state << 17;
        *state
    }

    /// Lengths around every lane count and the stage chunk, and a long odd one.
    const LENS: &[usize] = &[0, 1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65, 127, 128, 129, 1007];

    /// Checks one level's registers on `T` and `O` against [`reference`]: random values
    /// with the extremes among them, a random carry in, every length, a slice starting at
    /// each of the first offsets (unaligned loads), the carry out.
    fn check<L: Level, T, O>(level: L, what: &str, any: impl Fn(u64) -> T)
    where
        T: Vectorized + Running<O> + PartialEq + std::fmt::Debug + Default,
        O: VecOp<T, __m128i> + VecOp<T, __m256i> + VecOp<T, __m512i>,
    {
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        for &n in LENS {
            for offset in [0, 1, 3] {
                let x: Vec<T> = (0..n + offset).map(|_| any(xorshift(&mut state))).collect();
                let x = &x[offset..];
                let carry = any(xorshift(&mut state));
                let (want, want_carry) = reference::<T, O>(carry, x);
                let mut out = vec![T::default(); n];
                let Some(got_carry) = scan_at::<L, T, O>(level, carry, x, &mut out) else {
                    return; // no registers for this scan at this level
                };
                assert_eq!(out, want, "{what} at {:?}, n = {n}, offset {offset}", L::TARGET);
                assert_eq!(got_carry, want_carry, "{what} carry at {:?}, n = {n}", L::TARGET);
            }
        }
    }

    /// Every scan of `$t` at level `$level`: values from the full range (sums and products
    /// wrap), one in eight an extreme, and small ones (products of ±1 and 2 keep changing).
    macro_rules! every_scan {
        ($level:expr; $($t:ty)*) => {$({
            let any = |r: u64| match r % 8 {
                0 => <$t>::MIN,
                1 => <$t>::MAX,
                2 => (r >> 8) as $t % 3,
                _ => (r >> 8) as $t,
            };
            let small = |r: u64| [1 as $t, 2, 1, 3, 0 as $t][(r % 5) as usize].wrapping_sub((r >> 40 & 1) as $t);
            check::<_, $t, CumSum>($level, concat!(stringify!($t), " cumsum"), any);
            check::<_, $t, CumMax>($level, concat!(stringify!($t), " cummax"), any);
            check::<_, $t, CumMin>($level, concat!(stringify!($t), " cummin"), any);
            check::<_, $t, CumProd>($level, concat!(stringify!($t), " cumprod"), any);
            check::<_, $t, CumProd>($level, concat!(stringify!($t), " cumprod small"), small);
        })*};
    }

    #[test]
    fn registers_give_the_sequential_bits_at_every_level() {
        if let Some(l) = V2::try_new() {
            every_scan!(l; i8 i16 i32 i64 isize u8 u16 u32 u64 usize);
        }
        if let Some(l) = V3::try_new() {
            every_scan!(l; i8 i16 i32 i64 isize u8 u16 u32 u64 usize);
        }
        if let Some(l) = V4::try_new() {
            every_scan!(l; i8 i16 i32 i64 isize u8 u16 u32 u64 usize);
        }
    }

    #[test]
    fn bytes_in_zmm_registers() {
        // `scan_at` runs bytes in ymm registers at v4 (a chunk is 32 of them); the zmm loop
        // is still the one for longer slices, and must be right.
        let Some(_) = V4::try_new() else { return };
        let mut state = 7;
        for &n in LENS {
            let x: Vec<i8> = (0..n).map(|_| xorshift(&mut state) as i8).collect();
            let (want, want_carry) = reference::<i8, CumSum>(-5, &x);
            let mut out = vec![0; n];
            // SAFETY: the CPU has v4 (checked above); equal lengths; sums always run.
            let carry = unsafe { v4::<i8, CumSum>(-5, &x, &mut out) };
            assert_eq!((out, carry), (want, want_carry), "n = {n}");
            let (want, _) = reference::<i8, CumMax>(i8::MIN, &x);
            let mut out = vec![0; n];
            // SAFETY: as above.
            unsafe { v4::<i8, CumMax>(i8::MIN, &x, &mut out) };
            assert_eq!(out, want, "n = {n}");
        }
    }

    #[test]
    fn products_run_in_registers_where_a_lane_multiply_exists() {
        const { assert!(!<CumProd as VecOp<u8, __m512i>>::OK && !<CumProd as VecOp<i64, __m256i>>::OK) };
        const { assert!(<CumProd as VecOp<i32, __m128i>>::OK && <CumProd as VecOp<u64, __m512i>>::OK) };
    }
}
