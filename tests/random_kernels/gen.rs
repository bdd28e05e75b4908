//! The random-kernel generator: random `#[kernel]`s from the kernel language's grammar
//! (README "The kernel language"), each with its scalar reading (SPEC §1, the meaning
//! rule) and the way each result must match it, written out as one crate.
//!
//! Every kernel `kI` comes with `rI`, the same code with every array replaced by its element
//! `i` in a scalar loop: array `let`s become `Vec`s filled by `(0..n).map(|i| ..)`, a
//! reduction becomes a fold over such a `Vec` computed before the statement that uses it,
//! `o += e` / `o[..] = e` become `for i in 0..n` loops, and explicit loops are the same code.
//!
//! How a result is compared (the generator decides, from an abstract value of every
//! expression, once for "exact" data and once for general data):
//! - every value is tracked as a grid `(e, m)`: a multiple of `2^e` of magnitude at most
//!   `m` (or anything). The "exact" data are halves in `-8..=8` with NaN, ±inf and ±0, so a
//!   sum of gridded terms is exact in every order: reductions in lane order (SPEC §4) must
//!   then equal the left-to-right reading bit for bit, as must everything computed from them;
//! - `M::Zero`: a `f64::max`/`min` accumulator in lane order may pick either zero;
//! - `M::Approx(tol)`: `var`/`std` of gridded terms (the mean is exact, the squares are not);
//! - `M::Levels`: anything that depends on a lane-order sum of inexact terms; such results
//!   must still agree bit for bit between CPU levels;
//! - `#[kernel(strict)]` kernels and loops that run in order equal the reading bit for bit on
//!   any data.
//!
//! Panics must happen exactly where the reading panics (empty `min`/`max`/`argmin`/`argmax`,
//! `x.len() - 1` on an empty input with overflow checks on, out-of-bounds indexes).

use std::collections::HashMap;
use std::fmt::Write;

#[path = "nd.rs"]
mod nd;

/// Which parts of the grammar to generate. A part that finds a bug stays here, switched
/// off for the CI run, until the bug is fixed.
#[derive(Clone, Copy, Debug)]
pub struct Grammar {
    /// Explicit loops.
    pub loops: bool,
    /// `o[i] = o[i - 1] + ..` in a loop (a recurrence through an output).
    pub recurrence: bool,
    /// `ArrayView1` parameters (strided and reversed views).
    pub views: bool,
    /// `#[kernel(strict)]`.
    pub strict: bool,
    /// Transcendentals (`exp`, `ln`, `sin`).
    pub math: bool,
    /// An output used both by a loop that runs in order and by array expressions, or assigned
    /// by an array statement and written by index in a loop. The macro rejects both ("`o` is
    /// written by a loop that runs in order and also used by array expressions; use it in one
    /// way (the order between the two is not defined)"), which README does not list, and the
    /// message says "written" and "in order" also for a loop that only reads `o`, or a plain
    /// vectorizable one. Minimized:
    ///
    /// ```text
    /// #[kernel]
    /// fn read_in_order_then_array(x: &[f64], o: &mut [f64]) -> f64 {
    ///     let mut acc = 0.0_f64;
    ///     for i in 0..x.len() {
    ///         acc = acc * 0.5 + o[i];
    ///     }
    ///     acc + o.sum()
    /// }
    ///
    /// #[kernel]
    /// fn assign_then_loop_write(x: &[f64], o: &mut [f64]) {
    ///     o += x;
    ///     for i in 0..x.len() {
    ///         o[i] = x[i];
    ///     }
    /// }
    /// ```
    pub mixed_outputs: bool,
    /// A select whose branches are both literals, `(if m { 2.0 } else { 0.0 })`, used as an
    /// array: the expansion leaves the literal's float type ambiguous (E0689 on a later
    /// `.signum()`, `.recip()`, `.mul_add(..)`), a macro bug. Minimized:
    ///
    /// ```text
    /// #[kernel]
    /// fn literal_select(x: &[f64]) -> Vec<f64> {
    ///     (if x > 0.0 { 2.0 } else { 0.0 }).signum() // error[E0689]: ambiguous numeric type `{float}`
    /// }
    /// ```
    pub literal_selects: bool,
    /// Local outputs `let mut out = vec![init; x.len()];`, written by index in loops and
    /// returned.
    pub local_outputs: bool,
    /// N-d kernels (`nd.rs`): `ArrayView2`/`ArrayView1` parameters in every layout,
    /// broadcasting, whole and axis reductions, `insert_axis`, `t()`; kernel `id` is N-d when
    /// `id % nd_every == nd_every - 1`.
    pub nd: bool,
    /// One kernel in this many is N-d (an N-d kernel takes about 10 s to build, ten times a
    /// 1-D one).
    pub nd_every: usize,
    /// `any_axis` / `all_axis` of masks (N-d).
    pub nd_mask_axis: bool,
    /// Loop nests over N-d arrays (`x[[i + 1, j]]`): writing `o`, or summing into a scalar.
    pub nd_nests: bool,
    /// Per-row loops (`for row in x.outer_iter() { s += (row - row.mean()).max(); }`).
    pub nd_rows: bool,
    /// Scans of arrays: `e.cumsum()`, `cumprod`, `cummax`, `cummin` (read as NumPy's
    /// running values, left to right).
    pub scans: bool,
    /// Reductions of 1-D slices of parameters: `(&x[1..] - &x[..x.len() - 1]).sum()`,
    /// `x[1..x.len() - 1].max()`, optionally scanned first.
    pub slices: bool,
    /// Scalar `if`s on a length, `(if x.len() > 5 { x.max() } else { y.sum() })`: only the
    /// taken branch's reductions run (the reading computes them inside the branch, so an
    /// untaken `max` of an empty array does not panic there either).
    pub branches: bool,
}

impl Default for Grammar {
    fn default() -> Self {
        Grammar {
            loops: true,
            recurrence: true,
            views: true,
            strict: true,
            math: true,
            mixed_outputs: false,
            literal_selects: false,
            local_outputs: true,
            nd: true,
            nd_every: 10,
            nd_mask_axis: true,
            nd_nests: true,
            nd_rows: true,
            scans: true,
            slices: true,
            branches: true,
        }
    }
}

// ---- randomness --------------------------------------------------------------------------------

pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed ^ 0x2545_f491_4f6c_dd1d)
    }
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        ((self.next() as u128 * n as u128) >> 64) as usize
    }
    /// True with probability `p` percent.
    fn pct(&mut self, p: usize) -> bool {
        self.below(100) < p
    }
    fn pick<T: Clone>(&mut self, xs: &[T]) -> T {
        xs[self.below(xs.len())].clone()
    }
}

// ---- abstract values ---------------------------------------------------------------------------

/// The longest input a run uses, rounded up (bounds sums of gridded terms).
const NMAX: f64 = 8192.0;

/// How a value of the kernel relates to the same value of the reading.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Det {
    Exact,
    Zero,
    Approx(f64),
    Levels,
}

impl Det {
    fn rank(self) -> u8 {
        match self {
            Det::Exact => 0,
            Det::Zero => 1,
            Det::Approx(_) => 2,
            Det::Levels => 3,
        }
    }
    fn join(self, o: Det) -> Det {
        match (self, o) {
            (Det::Approx(a), Det::Approx(b)) => Det::Approx(a.max(b)),
            _ if self.rank() >= o.rank() => self,
            _ => o,
        }
    }
    /// Used as an operand: an approximate value makes the result comparable between levels
    /// only; `keeps_zero`: the operation maps operands equal up to the sign of zero to
    /// results equal up to the sign of zero.
    fn operand(self, keeps_zero: bool) -> Det {
        match self {
            Det::Approx(_) => Det::Levels,
            Det::Zero if !keeps_zero => Det::Levels,
            d => d,
        }
    }
}

#[derive(Clone, Copy, Debug)]
struct Ab {
    /// `Some((e, m))`: a multiple of `2^e` with magnitude at most `m` (or a NaN/±inf).
    grid: Option<(i32, f64)>,
    det: Det,
}

fn grid(e: i32, m: f64) -> Option<(i32, f64)> {
    // Keep 53 bits of headroom checks honest: beyond 2^60 units nothing is tracked.
    (m.is_finite() && m / 2f64.powi(e) < 2f64.powi(60)).then_some((e, m))
}

fn lit_grid(c: f64) -> Option<(i32, f64)> {
    let mut e = 0;
    while (c * 2f64.powi(-e)).fract() != 0.0 {
        e -= 1;
    }
    grid(e, c.abs())
}

fn join_grid(a: Option<(i32, f64)>, b: Option<(i32, f64)>) -> Option<(i32, f64)> {
    match (a, b) {
        (Some((ea, ma)), Some((eb, mb))) => grid(ea.min(eb), ma.max(mb)),
        _ => None,
    }
}

/// The grid of a sum of up to `NMAX` terms on grid `g`, if every order gives the same bits.
fn sum_grid(g: Option<(i32, f64)>, init: Option<(i32, f64)>) -> Option<(i32, f64)> {
    let (e, m) = g?;
    let (e0, m0) = init?;
    let (e, m) = (e.min(e0), m * NMAX + m0);
    (m / 2f64.powi(e) < 2f64.powi(52)).then_some((e, m))
}

// ---- expressions -------------------------------------------------------------------------------

#[derive(Clone, Copy, Debug, PartialEq)]
enum Kind {
    /// An f64 array.
    Arr,
    /// An f64 scalar.
    Sca,
    /// A bool array.
    Mask,
    /// A bool scalar.
    Bool,
    /// A usize scalar.
    Usize,
    /// A local output (`vec![init; n]`): loops write it by index, the kernel returns it.
    Out,
}

#[derive(Clone, Debug)]
enum E {
    /// An array binding: `name` in the kernel, `name[i]` in the reading.
    Arr(String),
    /// A mask binding, as `Arr`.
    MaskV(String),
    /// Printed as is in both; `key` names its abstract value in the environment.
    Raw(String, Kind, String),
    Lit(f64),
    Bin(&'static str, Box<E>, Box<E>),
    Neg(Box<E>),
    M1(&'static str, Box<E>),
    M2(&'static str, Box<E>, Box<E>),
    MulAdd(Box<E>, Box<E>, Box<E>),
    Powi(Box<E>, i32),
    Cast(&'static str, Box<E>),
    Select(Box<E>, Box<E>, Box<E>),
    Cmp(&'static str, Box<E>, Box<E>),
    Pred(&'static str, Box<E>),
    Not(Box<E>),
    MBin(&'static str, Box<E>, Box<E>),
    Red(&'static str, Box<E>),
    Dot(Box<E>, Box<E>),
    AsF64(Box<E>),
    /// `a.cumsum()` (any scan): an array, the running values of `a`.
    Scan(&'static str, Box<E>),
    /// A reduction of a slice of a parameter, optionally scanned first:
    /// `(&x[1..] - &x[..x.len() - 1]).cumsum().max()`. Slices have another length than the
    /// kernel's other arrays, so they are reduced right away.
    SliceRed(&'static str, Option<&'static str>, Slice),
    /// `(if p.len() > k { a } else { b })` of scalars: a condition known before any loop.
    Branch(String, usize, Box<E>, Box<E>),
}

/// A 1-D slice of parameter `p`.
#[derive(Clone, Debug)]
enum Slice {
    /// `&p[1..] - &p[..p.len() - 1]` (`np.diff`).
    Diff(String),
    /// `p[lo..p.len() - trim]` (`p[lo..]` without a trim, `p[..p.len() - trim]` from 0).
    Cut(String, usize, usize),
}

impl Slice {
    fn param(&self) -> &str {
        match self {
            Slice::Diff(p) | Slice::Cut(p, ..) => p,
        }
    }

    fn k(&self) -> String {
        match self {
            Slice::Diff(p) => format!("(&{p}[1..] - &{p}[..{p}.len() - 1])"),
            Slice::Cut(p, lo, 0) => format!("{p}[{lo}..]"),
            Slice::Cut(p, 0, t) => format!("{p}[..{p}.len() - {t}]"),
            Slice::Cut(p, lo, t) => format!("{p}[{lo}..{p}.len() - {t}]"),
        }
    }

    /// The reading: a `Vec<f64>` of the slice's elements, panicking where the kernel's
    /// bounds check does (`n - 1` of an empty input overflows, a start past the end).
    fn r(&self) -> String {
        match self {
            Slice::Diff(p) => format!(
                "{{ let (u, v) = (&{p}[1..], &{p}[..n - 1]); u.iter().zip(v).map(|(a, b)| a - b).collect::<Vec<f64>>() }}"
            ),
            Slice::Cut(p, lo, t) => format!("{p}[{lo}..n - {t}].to_vec()"),
        }
    }

    /// The same elements as a whole-array expression, for the abstract value.
    fn like(&self) -> E {
        match self {
            Slice::Diff(p) => Bin("-", bx(Arr(p.clone())), bx(Arr(p.clone()))),
            Slice::Cut(p, ..) => Arr(p.clone()),
        }
    }
}

use E::*;

fn bx(e: E) -> Box<E> {
    Box::new(e)
}

fn lit(c: f64) -> String {
    let s = format!("{c:?}");
    if c < 0.0 || (c == 0.0 && c.is_sign_negative()) {
        format!("({s})")
    } else {
        s
    }
}

impl E {
    fn kind(&self) -> Kind {
        match self {
            Arr(_) => Kind::Arr,
            MaskV(_) => Kind::Mask,
            Raw(_, k, _) => *k,
            Lit(_) | AsF64(_) | Dot(..) | SliceRed(..) | Branch(..) => Kind::Sca,
            Scan(..) => Kind::Arr,
            Bin(_, a, b) | M2(_, a, b) | MulAdd(a, b, _) => {
                if a.kind() == Kind::Arr || b.kind() == Kind::Arr {
                    Kind::Arr
                } else {
                    Kind::Sca
                }
            }
            Neg(a) | M1(_, a) | Powi(a, _) | Cast(_, a) => a.kind(),
            Select(c, a, b) => {
                if c.kind() == Kind::Mask || a.kind() == Kind::Arr || b.kind() == Kind::Arr {
                    Kind::Arr
                } else {
                    Kind::Sca
                }
            }
            Cmp(_, a, b) | MBin(_, a, b) => {
                let (ka, kb) = (a.kind(), b.kind());
                if matches!(ka, Kind::Arr | Kind::Mask) || matches!(kb, Kind::Arr | Kind::Mask) {
                    Kind::Mask
                } else {
                    Kind::Bool
                }
            }
            Pred(_, a) => {
                if a.kind() == Kind::Arr {
                    Kind::Mask
                } else {
                    Kind::Bool
                }
            }
            Not(a) => a.kind(),
            Red(r, _) => match *r {
                "argmin" | "argmax" | "count" | "len" => Kind::Usize,
                "any" | "all" => Kind::Bool,
                _ => Kind::Sca,
            },
        }
    }

    /// The kernel's text.
    fn k(&self) -> String {
        match self {
            Arr(n) | MaskV(n) => n.clone(),
            Raw(s, ..) => s.clone(),
            Lit(c) => lit(*c),
            Bin(op, a, b) => format!("({} {op} {})", a.k(), b.k()),
            Neg(a) => format!("(-{})", a.k()),
            M1(f, a) => format!("{}.{f}()", a.recv()),
            M2(f, a, b) => format!("{}.{f}({})", a.recv(), b.k()),
            MulAdd(a, b, c) => format!("{}.mul_add({}, {})", a.recv(), b.k(), c.k()),
            Powi(a, p) => format!("{}.powi({p})", a.recv()),
            Cast(t, a) => format!("({} as {t} as f64)", a.k()),
            Select(c, a, b) => format!("(if {} {{ {} }} else {{ {} }})", c.k(), a.k(), b.k()),
            Cmp(op, a, b) | MBin(op, a, b) => format!("({} {op} {})", a.k(), b.k()),
            Pred(f, a) => format!("{}.{f}()", a.recv()),
            Not(a) => format!("(!{})", a.k()),
            Red(r @ ("var1" | "std1"), a) => format!("{}.{}(1.0)", a.k(), &r[..3]),
            Red(r, a) => format!("{}.{r}()", a.k()),
            Dot(a, b) => format!("{}.dot({})", a.k(), b.k()),
            AsF64(a) => format!("({} as f64)", a.k()),
            Scan(f, a) => format!("{}.{f}()", a.k()),
            SliceRed(r, Some(f), sl) => format!("{}.{f}().{r}()", sl.k()),
            SliceRed(r, None, sl) => format!("{}.{r}()", sl.k()),
            Branch(p, k, a, b) => format!("(if {p}.len() > {k} {{ {} }} else {{ {} }})", a.typed(), b.typed()),
        }
    }

    /// The kernel's text as a method receiver (a literal gets its type).
    fn recv(&self) -> String {
        match self {
            Lit(c) => format!("({c:?}_f64)"),
            e if e.literal_only() => format!("({} as f64)", e.k()),
            e => e.k(),
        }
    }

    /// The kernel's text where a bare float literal would leave the type ambiguous.
    fn typed(&self) -> String {
        if self.literal_only() {
            format!("({} as f64)", self.k())
        } else {
            self.k()
        }
    }

    /// Made of literals only (its float type is not fixed by Rust's inference).
    fn literal_only(&self) -> bool {
        match self {
            Lit(_) => true,
            // Masks and bools have their type.
            Arr(_) | MaskV(_) | Raw(..) | Red(..) | Dot(..) | AsF64(_) | Cmp(..) | MBin(..) | Pred(..) | Not(_)
            | Scan(..) | SliceRed(..) => false,
            Bin(_, a, b) | M2(_, a, b) => a.literal_only() && b.literal_only(),
            MulAdd(a, b, c) => a.literal_only() && b.literal_only() && c.literal_only(),
            Select(_, b, c) => b.literal_only() && c.literal_only(),
            Branch(_, _, a, b) => a.literal_only() && b.literal_only(),
            Neg(a) | M1(_, a) | Powi(a, _) | Cast(_, a) => a.literal_only(),
        }
    }

    /// The reading's text for element `i`; reductions are pushed to `hoist` as `let`s.
    fn r(&self, hoist: &mut Vec<String>) -> String {
        match self {
            Arr(n) | MaskV(n) => format!("{n}[i]"),
            Raw(s, ..) => s.clone(),
            Lit(c) => format!("({c:?}_f64)"),
            Bin(op, a, b) => format!("({} {op} {})", a.r(hoist), b.r(hoist)),
            Neg(a) => format!("(-{})", a.r(hoist)),
            M1(f @ ("exp" | "ln" | "sin"), a) => format!("loopfuse::math::{f}({})", a.r(hoist)),
            M1(f, a) => format!("{}.{f}()", a.r(hoist)),
            M2(f, a, b) => format!("{}.{f}({})", a.r(hoist), b.r(hoist)),
            MulAdd(a, b, c) => format!("{}.mul_add({}, {})", a.r(hoist), b.r(hoist), c.r(hoist)),
            Powi(a, p) => format!("{}.powi({p})", a.r(hoist)),
            Cast(t, a) => format!("({} as {t} as f64)", a.r(hoist)),
            Select(c, a, b) => {
                format!("(if {} {{ {} }} else {{ {} }})", c.r(hoist), a.r(hoist), b.r(hoist))
            }
            Cmp(op, a, b) | MBin(op, a, b) => format!("({} {op} {})", a.r(hoist), b.r(hoist)),
            Pred(f, a) => format!("{}.{f}()", a.r(hoist)),
            Not(a) => format!("(!{})", a.r(hoist)),
            Red(r, a) => {
                let line = if *r == "len" {
                    format!("let h{} = n;", hoist.len())
                } else {
                    let ty = if a.kind() == Kind::Mask { "bool" } else { "f64" };
                    let v = a.r(hoist);
                    format!("let h{} = rd_{r}(&(0..n).map(|i| {v}).collect::<Vec<{ty}>>());", hoist.len())
                };
                let h = format!("h{}", hoist.len());
                hoist.push(line);
                h
            }
            Dot(a, b) => {
                let (va, vb) = (a.r(hoist), b.r(hoist));
                let h = format!("h{}", hoist.len());
                hoist.push(format!(
                    "let {h} = rd_dot(&(0..n).map(|i| {va}).collect::<Vec<f64>>(), &(0..n).map(|i| {vb}).collect::<Vec<f64>>());"
                ));
                h
            }
            AsF64(a) => format!("({} as f64)", a.r(hoist)),
            Scan(f, a) => {
                let v = a.r(hoist);
                let h = format!("h{}", hoist.len());
                hoist.push(format!("let {h} = rd_{f}(&(0..n).map(|i| {v}).collect::<Vec<f64>>());"));
                format!("{h}[i]")
            }
            SliceRed(r, f, sl) => {
                let v = match f {
                    Some(f) => format!("rd_{f}(&{})", sl.r()),
                    None => sl.r(),
                };
                let h = format!("h{}", hoist.len());
                hoist.push(format!("let {h} = rd_{r}(&{v});"));
                h
            }
            // Each branch's reductions computed inside it (their names kept unique by
            // leaving empty lines in their place).
            Branch(_, k, a, b) => {
                let branch = |e: &E, hoist: &mut Vec<String>| {
                    let start = hoist.len();
                    let v = e.r(hoist);
                    let lines: Vec<String> = hoist[start..].iter_mut().map(std::mem::take).collect();
                    format!("{{ {} {v} }}", lines.join(" "))
                };
                let (ta, tb) = (branch(a, hoist), branch(b, hoist));
                format!("(if n > {k} {ta} else {tb})")
            }
        }
    }

    /// The abstract value.
    fn ab(&self, env: &Env) -> Ab {
        let ex = |grid| Ab { grid, det: Det::Exact };
        match self {
            Arr(n) | MaskV(n) => env.get(n),
            Raw(_, _, key) => env.get(key),
            Lit(c) => ex(lit_grid(*c)),
            Bin(op, a, b) => {
                let (x, y) = (a.ab(env), b.ab(env));
                let pow2 = match &**b {
                    Lit(c) if *c != 0.0 && c.abs().log2().fract() == 0.0 => Some(c.abs().log2() as i32),
                    _ => None,
                };
                let (g, keeps) = match (*op, x.grid, y.grid) {
                    ("+" | "-", Some((ea, ma)), Some((eb, mb))) => (grid(ea.min(eb), ma + mb), true),
                    ("*", Some((ea, ma)), Some((eb, mb))) => (grid(ea + eb, ma * mb), true),
                    ("/", Some((ea, ma)), _) if pow2.is_some() => {
                        let k = pow2.unwrap();
                        (grid(ea - k, ma / 2f64.powi(k)), true)
                    }
                    ("%", Some((ea, ma)), Some((eb, mb))) => (grid(ea.min(eb), ma.min(mb)), true),
                    ("/", ..) => (None, pow2.is_some()),
                    ("%", ..) => (None, true),
                    _ => (None, true),
                };
                // `a / ±0` and `a % b` with `b = ±0` are sign-sensitive in `b` only.
                let dy = if *op == "/" && pow2.is_none() { y.det.operand(false) } else { y.det.operand(keeps) };
                Ab { grid: g, det: x.det.operand(keeps).join(dy) }
            }
            Neg(a) => {
                let x = a.ab(env);
                Ab { grid: x.grid, det: x.det.operand(true) }
            }
            M1(f, a) => {
                let x = a.ab(env);
                let (g, keeps) = match (*f, x.grid) {
                    ("abs", g) => (g, true),
                    ("floor" | "ceil" | "round" | "trunc", Some((e, m))) => (grid(e.max(0), m.ceil() + 1.0), true),
                    ("fract", Some((e, m))) => (grid(e, m.min(1.0)), true),
                    ("signum", _) => (grid(0, 1.0), false),
                    ("recip", _) => (None, false),
                    ("exp", _) => (None, true),
                    // ln(±0) = -inf; sqrt, sin, floor.. keep the sign of zero.
                    _ => (None, true),
                };
                let det = if *f == "abs" && x.det == Det::Zero { Det::Exact } else { x.det.operand(keeps) };
                Ab { grid: g, det }
            }
            M2(f, a, b) => {
                let (x, y) = (a.ab(env), b.ab(env));
                let (g, dx, dy) = match *f {
                    "min" | "max" => (join_grid(x.grid, y.grid), x.det.operand(true), y.det.operand(true)),
                    "copysign" => (x.grid, x.det.operand(true), y.det.operand(false)),
                    _ => (None, x.det.operand(true), y.det.operand(true)),
                };
                Ab { grid: g, det: dx.join(dy) }
            }
            MulAdd(a, b, c) => {
                let (x, y, z) = (a.ab(env), b.ab(env), c.ab(env));
                let g = match (x.grid, y.grid, z.grid) {
                    (Some((ea, ma)), Some((eb, mb)), Some((ec, mc))) => grid((ea + eb).min(ec), ma * mb + mc),
                    _ => None,
                };
                Ab { grid: g, det: x.det.operand(true).join(y.det.operand(true)).join(z.det.operand(true)) }
            }
            Powi(a, p) => {
                let x = a.ab(env);
                Ab { grid: x.grid.and_then(|(e, m)| grid(e * p, m.powi(*p))), det: x.det.operand(true) }
            }
            Cast(t, a) => {
                let x = a.ab(env);
                let g = match (*t, x.grid) {
                    ("f32", Some((e, m))) if m / 2f64.powi(e) < 2f64.powi(24) && m < 1e30 => Some((e, m)),
                    ("f32", _) => None,
                    // `as i32` saturates: ±inf become ±(2^31 - 1) (and NaN 0).
                    _ => grid(0, 2f64.powi(31)),
                };
                let det = if *t == "i32" && x.det == Det::Zero { Det::Exact } else { x.det.operand(true) };
                Ab { grid: g, det }
            }
            Select(c, a, b) => {
                let (m, x, y) = (c.ab(env), a.ab(env), b.ab(env));
                Ab {
                    grid: join_grid(x.grid, y.grid),
                    det: m.det.operand(false).join(x.det.operand(true)).join(y.det.operand(true)),
                }
            }
            // Comparisons do not see the sign of zero.
            Cmp(_, a, b) | MBin(_, a, b) => {
                ex(None).with(a.ab(env).det.operand(true).join(b.ab(env).det.operand(true)).zero_free())
            }
            Pred(_, a) | Not(a) => ex(None).with(a.ab(env).det.operand(true).zero_free()),
            Red(r, a) => {
                let x = a.ab(env);
                let strict = env.strict;
                let det = x.det.operand(true);
                match *r {
                    "len" => ex(grid(0, NMAX)),
                    "any" | "all" | "count" | "argmin" | "argmax" => ex(grid(0, NMAX)).with(det.zero_free()),
                    "min" | "max" => Ab { grid: x.grid, det },
                    "sum" | "mean" => {
                        let g = sum_grid(x.grid, Some((0, 0.0)));
                        let det = if strict || g.is_some() { det } else { Det::Levels };
                        Ab { grid: if *r == "sum" { g } else { None }, det }
                    }
                    "prod" => {
                        let unit = matches!(x.grid, Some((e, m)) if e >= 0 && m <= 1.0);
                        Ab {
                            grid: if unit { grid(0, 1.0) } else { None },
                            det: if strict || unit { det } else { Det::Levels },
                        }
                    }
                    "var" | "std" | "var1" | "std1" => {
                        let det = match (strict, x.grid, det) {
                            (true, ..) => det,
                            (false, Some((_, m)), Det::Exact) => {
                                let tol = 1e-12 * (4.0 * m * m + 1.0);
                                Det::Approx(if r.starts_with("var") { tol } else { tol.sqrt() })
                            }
                            _ => Det::Levels,
                        };
                        Ab { grid: None, det }
                    }
                    _ => unreachable!("{r}"),
                }
            }
            Dot(a, b) => Red("sum", bx(Bin("*", a.clone(), b.clone()))).ab(env),
            AsF64(a) => a.ab(env),
            // In order in the kernel as in the reading: exact whenever the operand is; a
            // running sum keeps a grid while every partial sum is exact.
            Scan(f, a) => {
                let x = a.ab(env);
                let g = match *f {
                    "cumsum" => sum_grid(x.grid, Some((0, 0.0))),
                    "cummax" | "cummin" => x.grid,
                    _ => None,
                };
                Ab { grid: g, det: x.det.operand(true) }
            }
            SliceRed(r, f, sl) => {
                let e = match f {
                    Some(f) => Scan(f, bx(sl.like())),
                    None => sl.like(),
                };
                Red(r, bx(e)).ab(env)
            }
            Branch(_, _, a, b) => {
                let (x, y) = (a.ab(env), b.ab(env));
                Ab { grid: join_grid(x.grid, y.grid), det: x.det.operand(true).join(y.det.operand(true)) }
            }
        }
    }

    /// Whether the text of this expression names `v`.
    fn mentions(&self, v: &str) -> bool {
        match self {
            Arr(n) | MaskV(n) => n == v,
            Raw(s, _, key) => {
                key == v || s == v || key.strip_prefix("#rec") == Some(v) || (v == "#rec" && key.starts_with("#rec"))
            }
            Lit(_) => false,
            Bin(_, a, b) | M2(_, a, b) | Cmp(_, a, b) | MBin(_, a, b) | Dot(a, b) => a.mentions(v) || b.mentions(v),
            MulAdd(a, b, c) | Select(a, b, c) => a.mentions(v) || b.mentions(v) || c.mentions(v),
            Neg(a) | M1(_, a) | Powi(a, _) | Cast(_, a) | Pred(_, a) | Not(a) | Red(_, a) | AsF64(a) | Scan(_, a) => {
                a.mentions(v)
            }
            SliceRed(.., sl) => sl.param() == v,
            Branch(p, _, a, b) => p == v || a.mentions(v) || b.mentions(v),
        }
    }
}

impl Ab {
    fn with(self, det: Det) -> Ab {
        Ab { det, ..self }
    }
}

impl Det {
    /// A comparison of values equal up to the sign of zero is equal.
    fn zero_free(self) -> Det {
        if self == Det::Zero {
            Det::Exact
        } else {
            self
        }
    }
}

// ---- environment -------------------------------------------------------------------------------

/// What the generator knows about the names in scope, and their abstract values under one
/// data assumption.
#[derive(Clone)]
struct Env {
    vals: HashMap<String, Ab>,
    strict: bool,
}

impl Env {
    fn get(&self, n: &str) -> Ab {
        *self.vals.get(n).unwrap_or_else(|| panic!("unbound {n}"))
    }
    fn set(&mut self, n: &str, a: Ab) {
        self.vals.insert(n.to_string(), a);
    }
}

/// A binding visible to the generator.
#[derive(Clone, Debug)]
struct Bind {
    name: String,
    kind: Kind,
    /// `let mut` array (compound assignment allowed), or an output.
    mutable: bool,
    /// An array parameter that is not shadowed (loops may iterate it).
    param: bool,
    output: bool,
}

// ---- statements ----------------------------------------------------------------------------------

#[derive(Clone, Debug)]
enum S {
    Let { name: String, mutable: bool, e: E },
    Compound { target: String, op: &'static str, e: E },
    AssignAll { target: String, e: E },
    Loop(Loop),
    LocalOut { name: String, init: f64 },
}

#[derive(Clone, Debug)]
enum Header {
    /// `for v in x`, `for v in x.iter()`, `for &v in x.iter()`.
    In(String, u8),
    /// `for (i, v) in x.iter().enumerate()`.
    Enum(String),
    /// `for i in 0..x.len()`.
    Range(String),
    /// `for i in 1..x.len() - 1`.
    Stencil(String),
    /// `for (u, v) in x.iter().zip(y)`.
    Zip(String, String),
    /// `let mut j = 0; while j < x.len() { .. j += 2; }`.
    While(String),
}

#[derive(Clone, Debug)]
enum LS {
    /// `acc += e`, `acc -= e`, `acc = acc.max(e)`, `acc = acc.min(e)`.
    Acc(String, &'static str, E),
    /// `if c { acc += e; }`.
    CondAcc(E, String, E),
    /// `acc = acc * 0.5 + e` (a running value: the loop runs in order).
    Running(String, E),
    /// `o[i] = e` or `o[i] += e`.
    Store(String, &'static str, E),
    /// `let t = e;` or `let mut t = e; t += 1.0;` (may shadow an outer name).
    Local(String, E, bool),
    /// `if c { break; }`.
    Break(E),
    /// `c += 1` under a condition (a usize counter).
    Count(E, String),
}

#[derive(Clone, Debug)]
struct Loop {
    header: Header,
    /// Accumulators declared before the loop: name, initial value (`None`: a usize `0`).
    accs: Vec<(String, Option<f64>)>,
    body: Vec<LS>,
}

impl Loop {
    fn index(&self) -> Option<&'static str> {
        match self.header {
            Header::In(..) | Header::Zip(..) => None,
            Header::While(_) => Some("j"),
            _ => Some("i"),
        }
    }
    /// Whether plain Rust semantics force an in-order loop: a running value, a `break`, a
    /// `while`, a recurrence, or an accumulator read in the body.
    fn in_order(&self) -> bool {
        let accs: Vec<&str> = self.accs.iter().map(|a| a.0.as_str()).collect();
        let reads_acc = |e: &E| accs.iter().any(|a| e.mentions(a));
        matches!(self.header, Header::While(_))
            || self.body.iter().any(|s| match s {
                // A local `let mut` updated in the body is a running value too.
                LS::Running(..) | LS::Break(_) | LS::Local(_, _, true) => true,
                LS::Store(_, _, e) | LS::Local(_, e, _) | LS::Acc(_, _, e) => reads_acc(e) || e.mentions("#rec"),
                LS::CondAcc(c, _, e) => reads_acc(c) || reads_acc(e) || c.mentions("#rec") || e.mentions("#rec"),
                LS::Count(c, _) => reads_acc(c) || c.mentions("#rec"),
            })
    }
}

// ---- the kernel --------------------------------------------------------------------------------

#[derive(Clone, Copy, Debug, PartialEq)]
enum Param {
    X,
    Y,
    W,
    A,
    O,
    P,
}

pub struct Kernel {
    id: usize,
    strict: bool,
    params: Vec<Param>,
    stmts: Vec<S>,
    results: Vec<E>,
}

struct Gen<'a> {
    rng: &'a mut Rng,
    g: Grammar,
    binds: Vec<Bind>,
    fresh: usize,
    in_loop: Option<LoopCtx>,
}

#[derive(Clone)]
struct LoopCtx {
    /// Element leaves: (text, key).
    leaves: Vec<(String, String)>,
    /// Scalar names the body may read (params, outer lets, locals).
    scalars: Vec<String>,
}

const LITS: &[f64] = &[0.5, 1.0, 2.0, 3.0, 0.25, 1.5, -1.0, -2.0, 4.0, 0.75, -0.5, 0.0];

impl Gen<'_> {
    fn name(&mut self, p: &str) -> String {
        self.fresh += 1;
        format!("{p}{}", self.fresh)
    }
    fn of_kind(&self, k: Kind) -> Vec<Bind> {
        // Latest binding of each name wins.
        let mut seen = std::collections::HashSet::new();
        let mut v = Vec::new();
        for b in self.binds.iter().rev() {
            if seen.insert(b.name.clone()) && b.kind == k {
                v.push(b.clone());
            }
        }
        v
    }
    fn lit(&mut self) -> E {
        Lit(self.rng.pick(LITS))
    }
    fn pow2(&mut self) -> E {
        Lit(self.rng.pick(&[2.0, 4.0, 0.5, -2.0]))
    }

    fn arr(&mut self, d: usize) -> E {
        let leaves = self.of_kind(Kind::Arr);
        if d == 0 || self.rng.pct(25) {
            return Arr(self.rng.pick(&leaves).name);
        }
        let d = d - 1;
        if self.g.scans && self.in_loop.is_none() && self.rng.pct(6) {
            let f = self.rng.pick(&["cumsum", "cumsum", "cumprod", "cummax", "cummin"]);
            return Scan(f, bx(self.arr(d)));
        }
        match self.rng.below(16) {
            0..=2 => {
                let op = self.rng.pick(&["+", "-", "*", "+", "-", "*", "/", "%"]);
                let b = match self.rng.below(4) {
                    0 | 1 => self.arr(d),
                    2 => self.sca(d),
                    _ if op == "/" => self.pow2(),
                    _ => self.lit(),
                };
                Bin(op, bx(self.arr(d)), bx(b))
            }
            3 => {
                let op = self.rng.pick(&["+", "-", "*"]);
                let a = if self.rng.pct(50) { self.sca(d) } else { self.lit() };
                Bin(op, bx(a), bx(self.arr(d)))
            }
            4 => Neg(bx(self.arr(d))),
            5 | 6 => {
                let mut fs = vec!["abs", "sqrt", "floor", "round", "trunc", "signum", "recip", "fract", "ceil"];
                if self.g.math {
                    fs.extend(["exp", "ln", "sin"]);
                }
                let f = self.rng.pick(&fs);
                M1(f, bx(self.arr(d)))
            }
            7 => {
                let f = self.rng.pick(&["min", "max", "min", "max", "copysign", "hypot"]);
                // The sign of a NaN that arithmetic makes is unspecified (Rust; LLVM swaps
                // operands between clones), and `copysign` shows it: copy literal signs only.
                let b = if self.rng.pct(60) && f != "copysign" { self.arr(d) } else { self.lit() };
                M2(f, bx(self.arr(d)), bx(b))
            }
            8 => {
                let b = if self.rng.pct(50) { self.arr(d) } else { self.lit() };
                let c = if self.rng.pct(50) { self.arr(d) } else { self.lit() };
                MulAdd(bx(self.arr(d)), bx(b), bx(c))
            }
            9 => Powi(bx(self.arr(d)), self.rng.pick(&[2, 3])),
            10 => Cast(self.rng.pick(&["f32", "i32"]), bx(self.arr(d))),
            11 | 12 => {
                let c = self.mask(d);
                let a = if self.rng.pct(60) { self.arr(d) } else { self.lit() };
                let b = if self.rng.pct(60) || (!self.g.literal_selects && matches!(a, Lit(_))) {
                    self.arr(d)
                } else {
                    self.lit()
                };
                Select(bx(c), bx(a), bx(b))
            }
            _ => {
                // A reduction feeding later work: `x - x.mean()`, `x / x.max()`, ...
                let op = self.rng.pick(&["-", "*", "+", "/"]);
                let a = self.arr(d);
                let r = self.red(d);
                Bin(op, bx(a), bx(r))
            }
        }
    }

    fn mask(&mut self, d: usize) -> E {
        let masks = self.of_kind(Kind::Mask);
        if !masks.is_empty() && self.rng.pct(30) {
            return MaskV(self.rng.pick(&masks).name);
        }
        let d = d.saturating_sub(1);
        match self.rng.below(8) {
            0..=3 => {
                let op = self.rng.pick(&[">", "<", ">=", "<=", "==", "!="]);
                let b = match self.rng.below(3) {
                    0 => self.arr(d),
                    1 => self.sca(d),
                    _ => self.lit(),
                };
                Cmp(op, bx(self.arr(d)), bx(b))
            }
            4 => Pred(self.rng.pick(&["is_nan", "is_finite"]), bx(self.arr(d))),
            5 if d > 0 => Not(bx(self.mask(d))),
            6 if d > 0 => MBin(self.rng.pick(&["&", "|", "^"]), bx(self.mask(d)), bx(self.mask(d))),
            _ => Cmp(">", bx(self.arr(d)), bx(self.lit())),
        }
    }

    /// A reduction (an f64 scalar).
    fn red(&mut self, d: usize) -> E {
        let d = d.saturating_sub(1);
        if self.g.slices && self.in_loop.is_none() && self.rng.pct(10) {
            return self.slice_red();
        }
        match self.rng.below(12) {
            0..=5 => {
                // `var1`/`std1`: `x.var(1.0)` / `x.std(1.0)`, ndarray's `ddof`.
                let r = self.rng.pick(&["sum", "mean", "var", "std", "min", "max", "sum", "mean", "var1", "std1"]);
                Red(r, bx(self.arr(d)))
            }
            6 => {
                // Products of ±1 (and NaN) are exact in every order.
                let a = if self.rng.pct(50) {
                    M1("signum", bx(self.arr(d)))
                } else {
                    Select(bx(self.mask(d)), bx(Lit(1.0)), bx(M1("signum", bx(self.arr(d)))))
                };
                Red("prod", bx(a))
            }
            7 | 8 => Dot(bx(self.arr(d)), bx(self.arr(d))),
            9 => AsF64(bx(Red(self.rng.pick(&["argmin", "argmax"]), bx(self.arr(d))))),
            10 => AsF64(bx(Red("count", bx(self.mask(d))))),
            _ => AsF64(bx(Red("len", bx(self.arr(0))))),
        }
    }

    /// A reduction of a slice of a parameter (`x`, or `y` when the kernel takes it).
    fn slice_red(&mut self) -> E {
        let ps: Vec<String> = self
            .of_kind(Kind::Arr)
            .into_iter()
            .filter(|b| b.param && (b.name == "x" || b.name == "y"))
            .map(|b| b.name)
            .collect();
        // A shadowed `x` is a computed value, which the kernel language does not slice.
        if ps.is_empty() {
            return Red("sum", bx(self.arr(0)));
        }
        let p = self.rng.pick(&ps);
        let sl = match self.rng.below(4) {
            0 | 1 => Slice::Diff(p),
            2 => Slice::Cut(p, self.rng.pick(&[1, 2]), self.rng.pick(&[0, 1])),
            _ => Slice::Cut(p, 0, 1),
        };
        let scan = self.rng.pct(40).then(|| self.rng.pick(&["cumsum", "cummax", "cummin"]));
        SliceRed(self.rng.pick(&["sum", "mean", "max", "min", "sum"]), scan, sl)
    }

    fn sca(&mut self, d: usize) -> E {
        if let Some(lc) = self.in_loop.clone() {
            return self.loop_sca(d, &lc);
        }
        let scalars = self.of_kind(Kind::Sca);
        match self.rng.below(6) {
            0 if !scalars.is_empty() => {
                let n = self.rng.pick(&scalars).name;
                Raw(n.clone(), Kind::Sca, n)
            }
            1 if d > 0 => {
                let op = self.rng.pick(&["+", "-", "*", "/"]);
                Bin(op, bx(self.sca(d - 1)), bx(self.lit()))
            }
            2 => self.lit(),
            3 if d > 0 && self.g.branches => self.branch(d),
            _ => self.red(d),
        }
    }

    /// `(if p.len() > k { a } else { b })` of two scalars (a reduction when no parameter
    /// is in scope).
    fn branch(&mut self, d: usize) -> E {
        let params: Vec<Bind> = self.binds.iter().filter(|b| b.param).cloned().collect();
        if params.is_empty() || d == 0 {
            return self.red(d);
        }
        let p = self.rng.pick(&params).name;
        let k = self.rng.pick(&[0, 1, 2, 5, 16, 33]);
        Branch(p, k, bx(self.sca(d - 1)), bx(self.sca(d - 1)))
    }

    /// A scalar expression in a loop body.
    fn loop_sca(&mut self, d: usize, lc: &LoopCtx) -> E {
        if d == 0 || self.rng.pct(30) {
            return match self.rng.below(6) {
                0 if !lc.scalars.is_empty() => {
                    let n = self.rng.pick(&lc.scalars);
                    Raw(n.clone(), Kind::Sca, n)
                }
                1 => self.lit(),
                _ => {
                    let (t, k) = self.rng.pick(&lc.leaves);
                    Raw(t, Kind::Sca, k)
                }
            };
        }
        let d = d - 1;
        match self.rng.below(9) {
            0..=2 => {
                let op = self.rng.pick(&["+", "-", "*", "+", "-", "*", "/"]);
                let b = if self.rng.pct(60) { self.loop_sca(d, lc) } else { self.lit() };
                Bin(op, bx(self.loop_sca(d, lc)), bx(b))
            }
            3 => Neg(bx(self.loop_sca(d, lc))),
            4 => {
                let mut fs = vec!["abs", "sqrt", "floor", "signum"];
                if self.g.math {
                    fs.push("exp");
                }
                M1(self.rng.pick(&fs), bx(self.loop_sca(d, lc)))
            }
            5 => M2(self.rng.pick(&["min", "max"]), bx(self.loop_sca(d, lc)), bx(self.loop_sca(d, lc))),
            6 => MulAdd(bx(self.loop_sca(d, lc)), bx(self.lit()), bx(self.loop_sca(d, lc))),
            7 => Powi(bx(self.loop_sca(d, lc)), 2),
            _ => {
                let c = self.loop_cond(d, lc);
                Select(bx(c), bx(self.loop_sca(d, lc)), bx(self.lit()))
            }
        }
    }

    fn loop_cond(&mut self, d: usize, lc: &LoopCtx) -> E {
        if self.rng.pct(20) {
            return Pred("is_nan", bx(self.loop_sca(d, lc)));
        }
        let op = self.rng.pick(&[">", "<", ">=", "<="]);
        Cmp(op, bx(self.loop_sca(d, lc)), bx(self.lit()))
    }

    fn bind(&mut self, name: &str, kind: Kind, mutable: bool, output: bool) {
        self.binds.push(Bind { name: name.to_string(), kind, mutable, param: false, output });
    }

    fn params(&self) -> Vec<Bind> {
        self.of_kind(Kind::Arr).into_iter().filter(|b| b.param).collect()
    }

    fn stmt(&mut self) -> S {
        let mutables: Vec<Bind> = self.of_kind(Kind::Arr).into_iter().filter(|b| b.mutable).collect();
        let outputs: Vec<Bind> = mutables.iter().filter(|b| b.output).cloned().collect();
        match self.rng.below(20) {
            0..=5 => {
                // An array `let`, sometimes shadowing an array name.
                let e = self.arr(3);
                let arrs = self.of_kind(Kind::Arr);
                let shadow: Vec<Bind> = arrs.iter().filter(|b| !b.output).cloned().collect();
                let name =
                    if !shadow.is_empty() && self.rng.pct(25) { self.rng.pick(&shadow).name } else { self.name("t") };
                let mutable = self.rng.pct(50);
                self.bind(&name, Kind::Arr, mutable, false);
                S::Let { name, mutable, e }
            }
            6..=8 => {
                let e = if self.g.branches && self.rng.pct(30) { self.branch(2) } else { self.sca(2) };
                let name = self.name("s");
                self.bind(&name, Kind::Sca, false, false);
                S::Let { name, mutable: false, e }
            }
            9 => {
                let e = self.mask(2);
                let name = self.name("m");
                self.bind(&name, Kind::Mask, false, false);
                S::Let { name, mutable: false, e }
            }
            10..=12 if !mutables.is_empty() => {
                let t = self.rng.pick(&mutables).name;
                let op = self.rng.pick(&["+=", "-=", "*=", "+=", "/="]);
                let e = match self.rng.below(3) {
                    _ if op == "/=" => self.pow2(),
                    0 => self.sca(1),
                    _ => self.arr(2),
                };
                S::Compound { target: t, op, e }
            }
            13 | 14 if !outputs.is_empty() => {
                let t = self.rng.pick(&outputs).name;
                S::AssignAll { target: t, e: self.arr(3) }
            }
            15 if self.g.local_outputs && self.g.loops && self.of_kind(Kind::Out).is_empty() => {
                let name = self.name("out");
                self.bind(&name, Kind::Out, true, true);
                S::LocalOut { name, init: self.rng.pick(&[0.0, 1.0, -0.5]) }
            }
            _ if self.g.loops && !self.params().is_empty() => S::Loop(self.gen_loop()),
            _ => {
                let e = self.arr(2);
                let name = self.name("t");
                self.bind(&name, Kind::Arr, false, false);
                S::Let { name, mutable: false, e }
            }
        }
    }

    fn gen_loop(&mut self) -> Loop {
        let params = self.params();
        let outputs: Vec<String> = self
            .of_kind(Kind::Arr)
            .into_iter()
            .filter(|b| b.output)
            .chain(self.of_kind(Kind::Out))
            .map(|b| b.name)
            .collect();
        let pnames: Vec<String> = params.iter().map(|b| b.name.clone()).collect();
        let a = self.rng.pick(&pnames);
        let header = match self.rng.below(9) {
            0 | 1 => Header::In(a.clone(), self.rng.below(3) as u8),
            2 | 3 => Header::Enum(a.clone()),
            4 | 5 => Header::Range(a.clone()),
            6 => Header::Stencil(a.clone()),
            7 if pnames.len() > 1 => {
                let b = self.rng.pick(&pnames.iter().filter(|p| **p != a).cloned().collect::<Vec<_>>());
                Header::Zip(a.clone(), b)
            }
            _ => Header::While(a.clone()),
        };
        let mut lp = Loop { header, accs: vec![], body: vec![] };
        let idx = lp.index();
        let mut leaves: Vec<(String, String)> = match &lp.header {
            Header::In(x, 0 | 1) => vec![("(*v)".into(), x.clone())],
            Header::In(x, _) => vec![("v".into(), x.clone())],
            Header::Zip(x, y) => vec![("(*u)".into(), x.clone()), ("(*v)".into(), y.clone())],
            Header::Enum(x) => vec![("(*v)".into(), x.clone())],
            _ => vec![],
        };
        if let Some(i) = idx {
            for p in &pnames {
                leaves.push((format!("{p}[{i}]"), p.clone()));
            }
            for o in &outputs {
                leaves.push((format!("{o}[{i}]"), o.clone()));
            }
            leaves.push((format!("({i} as f64)"), "#idx".into()));
            if let Header::Stencil(x) = &lp.header {
                leaves.push((format!("{x}[i - 1]"), x.clone()));
                leaves.push((format!("{x}[i + 1]"), x.clone()));
                if self.g.recurrence {
                    for o in &outputs {
                        leaves.push((format!("{o}[i - 1]"), format!("#rec{o}")));
                    }
                }
            }
        }
        let mut scalars: Vec<String> = self.of_kind(Kind::Sca).into_iter().map(|b| b.name).collect();
        let nacc = 1 + self.rng.below(2);
        for _ in 0..nacc {
            let n = self.name("acc");
            lp.accs.push((n.clone(), Some(self.rng.pick(&[0.0, 0.0, 1.0, -0.5]))));
        }
        let mut lc = LoopCtx { leaves, scalars: scalars.clone() };
        self.in_loop = Some(lc.clone());
        // A stencil reads x[i + 1]: on an empty input plain Rust panics there.
        if let Header::Stencil(x) = &lp.header {
            if let Some(o) = outputs.first().filter(|_| self.rng.pct(70)) {
                let e = Bin(
                    "-",
                    bx(Bin(
                        "+",
                        bx(Raw(format!("{x}[i - 1]"), Kind::Sca, x.clone())),
                        bx(Raw(format!("{x}[i + 1]"), Kind::Sca, x.clone())),
                    )),
                    bx(self.loop_sca(1, &lc)),
                );
                lp.body.push(LS::Store(o.clone(), if self.rng.pct(50) { "=" } else { "+=" }, e));
            } else {
                let acc = lp.accs[0].0.clone();
                lp.body.push(LS::Acc(
                    acc,
                    "+=",
                    Bin("*", bx(Raw(format!("{x}[i + 1]"), Kind::Sca, x.clone())), bx(self.loop_sca(1, &lc))),
                ));
            }
        }
        if matches!(lp.header, Header::In(..) | Header::Range(_)) && self.rng.pct(10) {
            let c = self.loop_cond(1, &lc);
            lp.body.push(LS::Break(c));
        }
        let nbody = 1 + self.rng.below(3);
        for _ in 0..nbody {
            let floats: Vec<String> = lp.accs.iter().filter(|a| a.1.is_some()).map(|a| a.0.clone()).collect();
            let acc = self.rng.pick(&floats);
            let item = match self.rng.below(12) {
                0..=2 => LS::Acc(acc, self.rng.pick(&["+=", "-=", "+=", "max", "min"]), self.loop_sca(2, &lc)),
                3 => {
                    let c = self.loop_cond(1, &lc);
                    LS::CondAcc(c, acc, self.loop_sca(1, &lc))
                }
                4 => LS::Running(acc, self.loop_sca(2, &lc)),
                5..=7 if idx.is_some() && !outputs.is_empty() => {
                    let o = self.rng.pick(&outputs);
                    let mut e = self.loop_sca(2, &lc);
                    if self.rng.pct(25) {
                        // A cumulative value: reads the accumulator (the loop runs in order).
                        lp.body.push(LS::Acc(acc.clone(), "+=", e.clone()));
                        e = Raw(acc.clone(), Kind::Sca, acc.clone());
                    }
                    LS::Store(o, self.rng.pick(&["=", "+=", "="]), e)
                }
                8 | 9 => {
                    // A loop-local `let`, shadowing an outer scalar name half the time (F5).
                    let name =
                        if !scalars.is_empty() && self.rng.pct(50) { self.rng.pick(&scalars) } else { self.name("l") };
                    let e = self.loop_sca(2, &lc);
                    let bump = self.rng.pct(40);
                    lc.scalars.retain(|s| *s != name);
                    lc.leaves.push((name.clone(), format!("#local{name}")));
                    self.in_loop = Some(lc.clone());
                    LS::Local(name, e, bump)
                }
                10 => {
                    let c = self.loop_cond(1, &lc);
                    let n = self.name("c");
                    lp.accs.push((n.clone(), None));
                    LS::Count(c, n)
                }
                _ => LS::Acc(acc, "+=", self.loop_sca(1, &lc)),
            };
            lp.body.push(item);
        }
        self.in_loop = None;
        scalars.clear();
        for (n, init) in &lp.accs {
            let kind = if init.is_some() { Kind::Sca } else { Kind::Usize };
            self.bind(n, kind, false, false);
        }
        lp
    }
}

pub fn kernel(id: usize, rng: &mut Rng, g: Grammar) -> Kernel {
    loop {
        let k = try_kernel(id, rng, g);
        if k.allowed(g) {
            return k;
        }
    }
}

fn try_kernel(id: usize, rng: &mut Rng, g: Grammar) -> Kernel {
    let mut params = vec![Param::X];
    for (p, pct) in [(Param::Y, 50), (Param::W, if g.views { 30 } else { 0 }), (Param::A, 40), (Param::O, 45)] {
        if rng.pct(pct) {
            params.push(p);
        }
    }
    if params.contains(&Param::O) && rng.pct(25) {
        params.push(Param::P);
    }
    let strict = g.strict && rng.pct(15);
    let mut gen = Gen { rng, g, binds: vec![], fresh: 0, in_loop: None };
    for p in &params {
        let (name, kind, output) = match p {
            Param::X => ("x", Kind::Arr, false),
            Param::Y => ("y", Kind::Arr, false),
            Param::W => ("w", Kind::Arr, false),
            Param::A => ("a", Kind::Sca, false),
            Param::O => ("o", Kind::Arr, true),
            Param::P => ("p", Kind::Arr, true),
        };
        gen.binds.push(Bind { name: name.into(), kind, mutable: output, param: kind == Kind::Arr && !output, output });
    }
    let nstmts = 1 + gen.rng.below(5);
    let mut stmts = Vec::new();
    for _ in 0..nstmts {
        let s = gen.stmt();
        // A shadowed parameter is no longer a parameter for loops.
        if let S::Let { name, .. } = &s {
            for b in gen.binds.iter_mut() {
                if &b.name == name && b.param {
                    b.param = false;
                }
            }
            if gen.params().is_empty() {
                // Keep one iterable parameter: undo by renaming (rare).
            }
        }
        stmts.push(s);
    }
    let has_out = params.contains(&Param::O);
    let nres = if has_out && gen.rng.pct(40) { 0 } else { 1 + gen.rng.below(3) };
    let mut results = Vec::new();
    for _ in 0..nres {
        // Prefer results that use what the body computed (accumulators, scalar and array lets).
        let scalars = gen.of_kind(Kind::Sca);
        let lets: Vec<Bind> = gen.of_kind(Kind::Arr).into_iter().filter(|b| !b.param).collect();
        let outs = gen.of_kind(Kind::Out);
        let e = match gen.rng.below(8) {
            _ if results.is_empty() && !outs.is_empty() && gen.rng.pct(70) => {
                let n = outs[0].name.clone();
                Raw(n.clone(), Kind::Out, n)
            }
            0 | 1 => gen.arr(3),
            2 | 3 => gen.sca(2),
            6 if !scalars.is_empty() => {
                let n = gen.rng.pick(&scalars).name;
                let s = gen.sca(1);
                Bin(gen.rng.pick(&["+", "-", "*"]), bx(Raw(n.clone(), Kind::Sca, n)), bx(s))
            }
            7 if !lets.is_empty() => {
                let n = gen.rng.pick(&lets).name;
                let s = gen.arr(1);
                Bin(gen.rng.pick(&["+", "-", "*"]), bx(Arr(n)), bx(s))
            }
            6 | 7 => gen.arr(2),
            4 => {
                let us = gen.of_kind(Kind::Usize);
                if !us.is_empty() && gen.rng.pct(50) {
                    let n = gen.rng.pick(&us).name;
                    Raw(n.clone(), Kind::Usize, n)
                } else {
                    Red(gen.rng.pick(&["argmin", "argmax", "count"]), bx(gen.arr(2)))
                }
            }
            _ => {
                let m = gen.mask(2);
                Red(gen.rng.pick(&["any", "all", "count"]), bx(m))
            }
        };
        // `count` wants a mask.
        let e = match e {
            Red("count", a) if a.kind() != Kind::Mask => Red("count", bx(Cmp(">", a, bx(Lit(0.0))))),
            e => e,
        };
        results.push(e);
    }
    Kernel { id, strict, params, stmts, results }
}

// ---- printing and analysis ---------------------------------------------------------------------

fn ty(k: Kind) -> &'static str {
    match k {
        Kind::Arr | Kind::Out => "Vec<f64>",
        Kind::Sca => "f64",
        Kind::Usize => "usize",
        Kind::Bool => "bool",
        Kind::Mask => unreachable!("a mask result"),
    }
}

fn mode(d: Det) -> String {
    match d {
        Det::Exact => "M::Exact".into(),
        Det::Zero => "M::Zero".into(),
        Det::Approx(t) => format!("M::Approx({t:e})"),
        Det::Levels => "M::Levels".into(),
    }
}

impl Kernel {
    /// Whether the kernel stays inside the grammar `g` allows.
    fn allowed(&self, g: Grammar) -> bool {
        let outs = ["o", "p"];
        let in_array_exprs = |o: &str| {
            self.results.iter().any(|e| e.mentions(o))
                || self.stmts.iter().any(|s| match s {
                    S::Let { e, .. } => e.mentions(o),
                    S::Compound { target, e, .. } | S::AssignAll { target, e } => target == o || e.mentions(o),
                    S::Loop(_) | S::LocalOut { .. } => false,
                })
        };
        let in_ordered_loops = |o: &str| {
            self.stmts.iter().any(|s| match s {
                S::Loop(lp) if lp.in_order() || self.strict => lp.mentions(o),
                // A loop that reads an output (`o[i] += e`, `.. o[i] ..`) or writes it twice
                // per element runs in order too (seed 4, k378: `let t1 = o;` then a stencil
                // loop with two `o[i] = ..`).
                S::Loop(lp) => {
                    lp.reads(o) || lp.body.iter().filter(|l| matches!(l, LS::Store(t, ..) if t == o)).count() > 1
                }
                _ => false,
            })
        };
        // An output assigned by array statements (`o += e`, `o[..] = e`) and written by index
        // in a loop: rejected the same way.
        let assigned = |o: &str| {
            self.stmts
                .iter()
                .any(|s| matches!(s, S::Compound { target, .. } | S::AssignAll { target, .. } if target == o))
        };
        let loop_written = |o: &str| {
            self.stmts
                .iter()
                .any(|s| matches!(s, S::Loop(lp) if lp.body.iter().any(|l| matches!(l, LS::Store(t, ..) if t == o))))
        };
        g.mixed_outputs
            || !outs.iter().any(|o| (in_array_exprs(o) && in_ordered_loops(o)) || (assigned(o) && loop_written(o)))
    }

    fn env(&self, exact: bool) -> Env {
        let mut env = Env { vals: HashMap::new(), strict: self.strict };
        for p in &self.params {
            let (n, g) = match p {
                Param::X => ("x", grid(-1, 8.0)),
                Param::Y => ("y", grid(-1, 8.0)),
                Param::W => ("w", grid(-1, 8.0)),
                Param::A => ("a", grid(-1, 2.0)),
                Param::O => ("o", grid(-1, 8.0)),
                Param::P => ("p", grid(-1, 8.0)),
            };
            env.set(n, Ab { grid: if exact { g } else { None }, det: Det::Exact });
        }
        env
    }

    fn signature(&self) -> String {
        let ps: Vec<&str> = self
            .params
            .iter()
            .map(|p| match p {
                Param::X => "x: &[f64]",
                Param::Y => "y: &[f64]",
                Param::W => "w: ArrayView1<f64>",
                Param::A => "a: f64",
                Param::O => "o: &mut [f64]",
                Param::P => "p: &mut [f64]",
            })
            .collect();
        let rs: Vec<&str> = self.results.iter().map(|e| ty(e.kind())).collect();
        let ret = match rs.len() {
            0 => String::new(),
            1 => format!(" -> {}", rs[0]),
            _ => format!(" -> ({})", rs.join(", ")),
        };
        format!("({}){ret}", ps.join(", "))
    }

    /// The kernel's source.
    pub fn source(&self) -> String {
        let mut s = String::new();
        // Every fourth kernel is also `parallel` (chosen by id, so the random stream, and
        // with it every kernel, stays what it was): the parallel passes' closures must compile
        // for any body; at these lengths (below the threshold) the pass runs serially and
        // must still equal the reading. `tests/parallel.rs` compares long inputs.
        let attr = match (self.strict, self.id % 4 == 1) {
            (true, true) => "#[kernel(strict, parallel)]",
            (true, false) => "#[kernel(strict)]",
            (false, true) => "#[kernel(parallel)]",
            (false, false) => "#[kernel]",
        };
        writeln!(s, "{attr}\nfn k{}{} {{", self.id, self.signature()).unwrap();
        for st in &self.stmts {
            match st {
                S::Let { name, mutable, e } => {
                    writeln!(s, "    let {}{name} = {};", if *mutable { "mut " } else { "" }, e.typed()).unwrap()
                }
                S::Compound { target, op, e } => writeln!(s, "    {target} {op} {};", e.k()).unwrap(),
                S::AssignAll { target, e } => writeln!(s, "    {target}[..] = {};", e.k()).unwrap(),
                S::Loop(lp) => s.push_str(&lp.text(true)),
                S::LocalOut { name, init } => writeln!(s, "    let mut {name} = vec![{init:?}_f64; x.len()];").unwrap(),
            }
        }
        match self.results.len() {
            0 => {}
            1 => writeln!(s, "    {}", self.results[0].k()).unwrap(),
            _ => {
                let v: Vec<String> = self.results.iter().map(|e| e.k()).collect();
                writeln!(s, "    ({})", v.join(", ")).unwrap()
            }
        }
        s.push_str("}\n");
        s
    }

    /// The scalar reading.
    pub fn reading(&self) -> String {
        let mut s = String::new();
        writeln!(s, "fn r{}{} {{\n    let n = x.len();", self.id, self.signature()).unwrap();
        let hoisted = |s: &mut String, h: &[String]| {
            for l in h {
                writeln!(s, "    {l}").unwrap();
            }
        };
        for st in &self.stmts {
            let mut h = Vec::new();
            match st {
                S::Let { name, mutable, e } => {
                    let m = if *mutable { "mut " } else { "" };
                    let v = e.r(&mut h);
                    hoisted(&mut s, &h);
                    match e.kind() {
                        Kind::Arr => writeln!(s, "    let {m}{name}: Vec<f64> = (0..n).map(|i| {v}).collect();"),
                        Kind::Mask => writeln!(s, "    let {m}{name}: Vec<bool> = (0..n).map(|i| {v}).collect();"),
                        k => writeln!(s, "    let {m}{name}: {} = {v};", ty(k)),
                    }
                    .unwrap()
                }
                S::Compound { target, op, e } => {
                    let v = e.r(&mut h);
                    hoisted(&mut s, &h);
                    writeln!(s, "    for i in 0..n {{\n        let v = {v};\n        {target}[i] {op} v;\n    }}")
                        .unwrap()
                }
                S::AssignAll { target, e } => {
                    let v = e.r(&mut h);
                    hoisted(&mut s, &h);
                    writeln!(s, "    for i in 0..n {{\n        let v = {v};\n        {target}[i] = v;\n    }}").unwrap()
                }
                S::Loop(lp) => s.push_str(&lp.text(false)),
                S::LocalOut { name, init } => writeln!(s, "    let mut {name} = vec![{init:?}_f64; x.len()];").unwrap(),
            }
        }
        let mut h = Vec::new();
        let v: Vec<String> = self
            .results
            .iter()
            .map(|e| {
                let t = e.r(&mut h);
                if e.kind() == Kind::Arr {
                    format!("(0..n).map(|i| {t}).collect::<Vec<f64>>()")
                } else {
                    t
                }
            })
            .collect();
        hoisted(&mut s, &h);
        match v.len() {
            0 => {}
            1 => writeln!(s, "    {}", v[0]).unwrap(),
            _ => writeln!(s, "    ({})", v.join(", ")).unwrap(),
        }
        s.push_str("}\n");
        s
    }

    /// How each result, then each output, must match the reading, on exact or general data.
    fn modes(&self, exact: bool) -> Vec<Det> {
        let mut env = self.env(exact);
        for st in &self.stmts {
            match st {
                S::Let { name, e, .. } => {
                    let a = e.ab(&env);
                    env.set(name, a)
                }
                S::Compound { target, op, e } => {
                    let a = Bin(&op[..1], bx(Arr(target.clone())), bx(e.clone())).ab(&env);
                    env.set(target, a)
                }
                S::AssignAll { target, e } => {
                    let a = e.ab(&env);
                    env.set(target, a)
                }
                S::Loop(lp) => lp.analyze(&mut env),
                S::LocalOut { name, init } => env.set(name, Ab { grid: lit_grid(*init), det: Det::Exact }),
            }
        }
        let mut v: Vec<Det> = self.results.iter().map(|e| e.ab(&env).det).collect();
        for p in &self.params {
            match p {
                Param::O => v.push(env.get("o").det),
                Param::P => v.push(env.get("p").det),
                _ => {}
            }
        }
        v
    }

    /// The kernel, its reading and its test function.
    pub fn emit(&self) -> String {
        let src = self.source();
        let mut s = String::new();
        s.push_str(&src);
        s.push_str(&self.reading());
        let me: Vec<String> = self.modes(true).into_iter().map(mode).collect();
        let mg: Vec<String> = self.modes(false).into_iter().map(mode).collect();
        let id = self.id;
        let mut setup = String::from("let x = data(set, n, 1);\n");
        let mut args = vec!["&x"];
        let mut outs = String::new();
        let mut push = String::new();
        for p in &self.params {
            match p {
                Param::X => {}
                Param::Y => {
                    setup.push_str("let y = data(set, n, 2);\n");
                    args.push("&y")
                }
                Param::W => {
                    setup.push_str("let wb = data(set, 2 * n, 3);\nlet w = view(&wb, n, set);\n");
                    args.push("w")
                }
                Param::A => {
                    setup.push_str("let a = scalar(set, 4);\n");
                    args.push("a")
                }
                Param::O => {
                    setup.push_str("let o0 = data(set, n, 5);\n");
                    outs.push_str("let mut o = o0.clone();\n");
                    push.push_str("v.push(V::A(o.clone()));\n");
                    args.push("&mut o")
                }
                Param::P => {
                    setup.push_str("let p0 = data(set, n, 6);\n");
                    outs.push_str("let mut p = p0.clone();\n");
                    push.push_str("v.push(V::A(p.clone()));\n");
                    args.push("&mut p")
                }
            }
        }
        let args = args.join(", ");
        write!(
            s,
            r####"const SRC{id}: &str = r###"{src}"###;
fn t{id}(ctx: &mut Ctx) {{
    let me: &[M] = &[{me}];
    let mg: &[M] = &[{mg}];
    for &n in LENS {{
        for set in 0..SETS {{
            {setup}
            let want = {{
                {outs}
                run(|| {{
                    let mut v = Vec::new();
                    r{id}({args}).vals(&mut v);
                    {push}
                    v
                }})
            }};
            let got = levels(|| {{
                {outs}
                run(|| {{
                    let mut v = Vec::new();
                    k{id}({args}).vals(&mut v);
                    {push}
                    v
                }})
            }});
            if !ctx.check({id}, SRC{id}, n, set, &want, &got, if is_exact(set) {{ me }} else {{ mg }}) {{
                return;
            }}
        }}
    }}
}}
"####,
            me = me.join(", "),
            mg = mg.join(", "),
        )
        .unwrap();
        s
    }
}

impl Loop {
    fn reads(&self, o: &str) -> bool {
        self.body.iter().any(|s| match s {
            LS::Store(t, op, e) => (t == o && *op == "+=") || e.mentions(o),
            LS::Acc(_, _, e) | LS::Running(_, e) | LS::Local(_, e, _) => e.mentions(o),
            LS::CondAcc(c, _, e) => c.mentions(o) || e.mentions(o),
            LS::Break(c) | LS::Count(c, _) => c.mentions(o),
        })
    }

    fn mentions(&self, o: &str) -> bool {
        self.body.iter().any(|s| match s {
            LS::Store(t, _, e) => t == o || e.mentions(o),
            LS::Acc(_, _, e) | LS::Running(_, e) | LS::Local(_, e, _) => e.mentions(o),
            LS::CondAcc(c, _, e) => c.mentions(o) || e.mentions(o),
            LS::Break(c) | LS::Count(c, _) => c.mentions(o),
        })
    }

    fn text(&self, kernel: bool) -> String {
        let p = |e: &E| {
            if kernel {
                e.typed()
            } else {
                let mut h = Vec::new();
                let t = e.r(&mut h);
                assert!(h.is_empty(), "a reduction in a loop body");
                t
            }
        };
        let mut s = String::new();
        for (n, init) in &self.accs {
            match init {
                Some(c) => writeln!(s, "    let mut {n} = {c:?}_f64;").unwrap(),
                None => writeln!(s, "    let mut {n} = 0;").unwrap(),
            }
        }
        let head = match &self.header {
            Header::In(x, 0) => format!("for v in {x} {{"),
            Header::In(x, 1) => format!("for v in {x}.iter() {{"),
            Header::In(x, _) => format!("for &v in {x}.iter() {{"),
            Header::Enum(x) => format!("for (i, v) in {x}.iter().enumerate() {{"),
            Header::Range(x) => format!("for i in 0..{x}.len() {{"),
            Header::Stencil(x) => format!("for i in 1..{x}.len() - 1 {{"),
            Header::Zip(x, y) => format!("for (u, v) in {x}.iter().zip({y}) {{"),
            Header::While(x) => format!("let mut j = 0;\n    while j < {x}.len() {{"),
        };
        writeln!(s, "    {head}").unwrap();
        let idx = self.index().unwrap_or("i");
        for item in &self.body {
            let line = match item {
                LS::Acc(a, "max", e) => format!("{a} = {a}.max({});", p(e)),
                LS::Acc(a, "min", e) => format!("{a} = {a}.min({});", p(e)),
                LS::Acc(a, op, e) => format!("{a} {op} {};", p(e)),
                LS::CondAcc(c, a, e) => format!("if {} {{\n            {a} += {};\n        }}", p(c), p(e)),
                LS::Running(a, e) => format!("{a} = {a} * 0.5 + {};", p(e)),
                LS::Store(o, op, e) => format!("{o}[{idx}] {op} {};", p(e)),
                LS::Local(n, e, false) => format!("let {n} = {};", p(e)),
                LS::Local(n, e, true) => format!("let mut {n} = {};\n        {n} += 1.0;", p(e)),
                LS::Break(c) => format!("if {} {{\n            break;\n        }}", p(c)),
                LS::Count(c, n) => format!("if {} {{\n            {n} += 1;\n        }}", p(c)),
            };
            writeln!(s, "        {line}").unwrap();
        }
        if let Header::While(_) = self.header {
            writeln!(s, "        j += 1 + j % 2;").unwrap();
        }
        s.push_str("    }\n");
        s
    }

    fn analyze(&self, env: &mut Env) {
        let ordered = self.in_order() || env.strict;
        let mut b = env.clone();
        b.set("#idx", Ab { grid: grid(0, NMAX), det: Det::Exact });
        let outs: Vec<String> =
            env.vals.keys().filter(|k| *k == "o" || *k == "p" || k.starts_with("out")).cloned().collect();
        for o in &outs {
            let a = env.get(o);
            b.set(&format!("#rec{o}"), Ab { grid: None, det: a.det });
        }
        // Per accumulator: grid and det so far.
        let mut accs: HashMap<String, Ab> = HashMap::new();
        for (n, init) in &self.accs {
            let g = init.map(lit_grid).unwrap_or(grid(0, 0.0));
            accs.insert(n.clone(), Ab { grid: g, det: Det::Exact });
            b.set(n, Ab { grid: None, det: Det::Exact });
        }
        let mut cond_det = Det::Exact;
        for item in &self.body {
            match item {
                LS::Acc(a, "+=" | "-=", e) | LS::CondAcc(_, a, e) => {
                    let mut t = e.ab(&b);
                    if let LS::CondAcc(c, ..) = item {
                        t.det = t.det.join(c.ab(&b).det.operand(true).zero_free());
                    }
                    let cur = accs[a];
                    let g = sum_grid(t.grid, cur.grid);
                    let det = cur.det.join(t.det.operand(true));
                    let det = if ordered || g.is_some() { det } else { Det::Levels };
                    accs.insert(a.clone(), Ab { grid: g, det });
                }
                LS::Acc(a, _, e) => {
                    // max / min
                    let t = e.ab(&b);
                    let cur = accs[a];
                    let det = cur.det.join(t.det.operand(true)).join(if ordered { Det::Exact } else { Det::Zero });
                    accs.insert(a.clone(), Ab { grid: join_grid(cur.grid, t.grid), det });
                }
                LS::Running(a, e) => {
                    let t = e.ab(&b);
                    let cur = accs[a];
                    accs.insert(a.clone(), Ab { grid: None, det: cur.det.join(t.det.operand(true)) });
                }
                LS::Store(o, op, e) => {
                    let t = e.ab(&b);
                    let old = b.get(o);
                    let new = if *op == "+=" {
                        Bin("+", bx(Raw(o.clone(), Kind::Sca, o.clone())), bx(e.clone())).ab(&b)
                    } else {
                        t
                    };
                    let a = Ab { grid: join_grid(old.grid, new.grid), det: old.det.join(new.det) };
                    b.set(o, a);
                    b.set(&format!("#rec{o}"), Ab { grid: None, det: a.det });
                }
                LS::Local(n, e, bump) => {
                    let mut t = e.ab(&b);
                    if *bump {
                        t.grid = t.grid.and_then(|(e, m)| grid(e.min(0), m + 1.0));
                    }
                    b.set(&format!("#local{n}"), t);
                }
                LS::Break(c) | LS::Count(c, _) => {
                    cond_det = cond_det.join(c.ab(&b).det.operand(true).zero_free());
                    if let LS::Count(_, n) = item {
                        let cur = accs[n];
                        accs.insert(n.clone(), Ab { grid: grid(0, NMAX), det: cur.det.join(cond_det) });
                    }
                }
            }
            // Accumulators read in the body (in-order loops): their running value.
            for (n, a) in &accs {
                b.set(n, Ab { grid: None, det: a.det });
            }
        }
        // A `break` decides how far every accumulator and output got.
        for (n, a) in accs {
            env.set(&n, Ab { grid: a.grid, det: a.det.join(cond_det) });
        }
        for o in &outs {
            let a = b.get(o);
            env.set(o, Ab { grid: a.grid, det: a.det.join(cond_det) });
        }
    }
}

/// The whole crate's `src/main.rs`: `count` kernels from `seed`, numbered from `first`.
pub fn crate_main(seed: u64, first: usize, count: usize, g: Grammar) -> String {
    let mut s = String::from(include_str!("prelude.rs"));
    let mut ids = Vec::new();
    for id in first..first + count {
        let mut rng = Rng::new(seed.wrapping_mul(0x1000_0000_01b3) ^ id as u64);
        s.push('\n');
        if g.nd && id % g.nd_every == g.nd_every - 1 {
            s.push_str(&nd::kernel(id, &mut rng, g).emit());
        } else {
            s.push_str(&kernel(id, &mut rng, g).emit());
        }
        ids.push(id);
    }
    let tests: Vec<String> = ids.iter().map(|i| format!("({i}, t{i} as fn(&mut Ctx))")).collect();
    write!(
        s,
        r#"
fn main() {{
    std::panic::set_hook(Box::new(|_| {{}}));
    let only: Option<usize> = std::env::args().nth(1).map(|a| a.parse().expect("a kernel number"));
    let tests: &[(usize, fn(&mut Ctx))] = &[{}];
    let mut ctx = Ctx {{ cases: 0, panicking: 0, failures: Vec::new() }};
    for &(i, t) in tests {{
        if only.is_some_and(|o| o != i) {{
            continue;
        }}
        if catch_unwind(AssertUnwindSafe(|| t(&mut ctx))).is_err() {{
            ctx.failures.push(format!("kernel k{{i}}: the test harness panicked"));
        }}
    }}
    println!(
        "kernels {{}} cases {{}} (the reading panics in {{}}) failures {{}}",
        tests.len(),
        ctx.cases,
        ctx.panicking,
        ctx.failures.len()
    );
    for f in &ctx.failures {{
        println!("FAIL {{f}}");
    }}
    if !ctx.failures.is_empty() {{
        std::process::exit(1);
    }}
}}
"#,
        tests.join(", ")
    )
    .unwrap();
    s
}
