//! Random N-d kernels (`Grammar::nd`): parameters `x, y: ArrayView2<f64>` of shape `(n, m)`
//! (`x` also as `ArrayViewD<f64>`, every array result then `ArrayD`, or as `&Array2<f64>`),
//! `w: ArrayView1<f64>` of `m` elements or one (NumPy stretch), `a: f64`, `z: ArrayView3<f64>`
//! of shape `(2, n, m)`, and an output `o` (`ArrayViewMut2<f64>` in any layout or
//! `&mut Array2<f64>`) written by `o += e`, `-=`, `*=`, `o[..] = e`; the 1-D expression
//! grammar on N-d operands under NumPy broadcasting, with whole reductions (scalars used
//! later), axis reductions `sum prod mean var std min max argmin argmax count any all _axis`
//! (`var_axis`/`std_axis` with `ddof`) reused later as they are (`x - x.mean_axis(Axis(0))`)
//! or through `insert_axis(Axis(k))` (`x / e.sum_axis(Axis(1)).insert_axis(Axis(1))`),
//! `a.dot(&v)`, views `insert_axis` and `t()` of parameters and of computed values, values of
//! rank 0 to 3; `let`, `let mut`, `+= -= *= /=` on array lets, shadowing of lets and
//! parameters; results `Array1..3<f64>`, `Array1..2<usize>`, `Array1..2<bool>`, `f64`,
//! `usize`, `bool`, tuples and `()`, plain or as `Result<_, KernelError>`; `#[kernel(strict)]`
//! (the reading then reduces in order).
//!
//! Shapes are symbolic (`n`, `m`, `1`): every operand of an operation broadcasts by
//! construction (a "square" kernel has `m = n` and may mix `x` with `x.t()`). The reading
//! (`r<id>`) computes each value eagerly as a logical `ArrayD` with the prelude's helpers,
//! every reduction by the 1-D `#[kernel]` reduction over the lane or over the C-order
//! sequence, math through `loopfuse::math`: so every result must equal the reading bit for
//! bit (any NaN for any NaN) on any data, on every layout (prelude `L1`, `L2`, `L3`, and
//! stride-0 broadcasts of a row, a column, an element and a plane) and level.

use super::{lit, Grammar, Rng};
use std::fmt::Write;

/// A symbolic length.
#[derive(Clone, Copy, Debug, PartialEq)]
enum D {
    N,
    M,
    /// The leading axis of the 3-D parameter `z` (2 at run time).
    K,
    One,
}

/// An element type.
#[derive(Clone, Copy, Debug, PartialEq)]
enum El {
    F,
    B,
    U,
}

#[derive(Clone, Debug, PartialEq)]
struct Ty {
    el: El,
    shape: Vec<D>,
}

/// `e` broadcasts to `s` without growing it.
fn compat(e: &[D], s: &[D]) -> bool {
    e.len() <= s.len() && e.iter().zip(&s[s.len() - e.len()..]).all(|(a, b)| a == b || *a == D::One)
}

fn bcast(a: &[D], b: &[D]) -> Vec<D> {
    let n = a.len().max(b.len());
    let get = |s: &[D], i: usize| if i + s.len() >= n { s[i + s.len() - n] } else { D::One };
    (0..n)
        .map(|i| match (get(a, i), get(b, i)) {
            (D::One, y) => y,
            (x, D::One) => x,
            (x, y) => {
                assert_eq!(x, y, "symbolic shapes {a:?} and {b:?}");
                x
            }
        })
        .collect()
}

#[derive(Clone, Debug)]
enum X {
    Leaf(String, Ty),
    Lit(f64),
    Bin(&'static str, Box<X>, Box<X>),
    Neg(Box<X>),
    M1(&'static str, Box<X>),
    M2(&'static str, Box<X>, Box<X>),
    MulAdd(Box<X>, Box<X>, Box<X>),
    Powi(Box<X>, i32),
    Cast(&'static str, Box<X>),
    Select(Box<X>, Box<X>, Box<X>),
    Cmp(&'static str, Box<X>, Box<X>),
    Pred(&'static str, Box<X>),
    Not(Box<X>),
    MBin(&'static str, Box<X>, Box<X>),
    /// A whole reduction.
    Red(&'static str, Box<X>),
    /// An axis reduction; `Some(ddof)` for `var`/`std`.
    Axis(&'static str, Box<X>, usize, Option<f64>),
    Ins(Box<X>, usize),
    /// `t()`, or `reversed_axes()` when `true` (the same view).
    T(Box<X>, bool),
    /// `(e as f64)` of a usize scalar.
    AsF64(Box<X>),
    /// `a.dot(&v)` of a matrix `[p, q]` and a vector `[q]`: `(a * v).sum_axis(Axis(1))`.
    Dot(Box<X>, Box<X>),
}

use X::*;

fn bx(e: X) -> Box<X> {
    Box::new(e)
}

fn red_el(r: &str) -> El {
    match r {
        "argmin" | "argmax" | "count" => El::U,
        "any" | "all" => El::B,
        _ => El::F,
    }
}

impl X {
    fn ty(&self) -> Ty {
        let f = |shape| Ty { el: El::F, shape };
        let b = |shape| Ty { el: El::B, shape };
        match self {
            Leaf(_, t) => t.clone(),
            Lit(_) => f(vec![]),
            Bin(_, x, y) | M2(_, x, y) => f(bcast(&x.ty().shape, &y.ty().shape)),
            MulAdd(x, y, z) => f(bcast(&bcast(&x.ty().shape, &y.ty().shape), &z.ty().shape)),
            Neg(x) | M1(_, x) | Powi(x, _) | Cast(_, x) | Not(x) => x.ty(),
            Select(c, x, y) => f(bcast(&bcast(&c.ty().shape, &x.ty().shape), &y.ty().shape)),
            Cmp(_, x, y) | MBin(_, x, y) => b(bcast(&x.ty().shape, &y.ty().shape)),
            Pred(_, x) => b(x.ty().shape),
            Red(r, _) => Ty { el: red_el(r), shape: vec![] },
            Axis(r, x, k, _) => {
                let mut s = x.ty().shape;
                s.remove(*k);
                Ty { el: red_el(r), shape: s }
            }
            Ins(x, k) => {
                let mut t = x.ty();
                t.shape.insert(*k, D::One);
                t
            }
            T(x, _) => {
                let mut t = x.ty();
                t.shape.reverse();
                t
            }
            AsF64(x) => f(x.ty().shape),
            Dot(a, _) => f(vec![a.ty().shape[0]]),
        }
    }

    fn rank(&self) -> usize {
        self.ty().shape.len()
    }

    /// The shapes of this value and of every value it is made of (the reading makes each).
    fn shapes(&self, out: &mut Vec<Vec<D>>) {
        out.push(self.ty().shape);
        let subs: Vec<&X> = match self {
            Leaf(..) | Lit(_) => vec![],
            Bin(_, a, b) | M2(_, a, b) | Cmp(_, a, b) | MBin(_, a, b) | Dot(a, b) => vec![a, b],
            MulAdd(a, b, c) | Select(a, b, c) => vec![a, b, c],
            Neg(a) | M1(_, a) | Powi(a, _) | Cast(_, a) | Pred(_, a) | Not(a) | Red(_, a) | AsF64(a) => vec![a],
            Axis(_, a, ..) | Ins(a, _) | T(a, _) => vec![a],
        };
        for e in subs {
            e.shapes(out);
        }
    }

    fn literal_only(&self) -> bool {
        match self {
            Lit(_) => true,
            Bin(_, a, b) | M2(_, a, b) => a.literal_only() && b.literal_only(),
            MulAdd(a, b, c) => a.literal_only() && b.literal_only() && c.literal_only(),
            Select(_, b, c) => b.literal_only() && c.literal_only(),
            Neg(a) | M1(_, a) | Powi(a, _) | Cast(_, a) => a.literal_only(),
            _ => false,
        }
    }

    fn recv(&self) -> String {
        match self {
            Lit(c) => format!("({c:?}_f64)"),
            e if e.literal_only() => format!("({} as f64)", e.k()),
            e => e.k(),
        }
    }

    fn typed(&self) -> String {
        if self.literal_only() {
            format!("({} as f64)", self.k())
        } else {
            self.k()
        }
    }

    /// The kernel's text.
    fn k(&self) -> String {
        match self {
            Leaf(n, _) => n.clone(),
            Lit(c) => lit(*c),
            Bin(op, a, b) | Cmp(op, a, b) | MBin(op, a, b) => format!("({} {op} {})", a.k(), b.k()),
            Neg(a) => format!("(-{})", a.k()),
            M1(f, a) | Pred(f, a) => format!("{}.{f}()", a.recv()),
            M2(f, a, b) => format!("{}.{f}({})", a.recv(), b.k()),
            MulAdd(a, b, c) => format!("{}.mul_add({}, {})", a.recv(), b.k(), c.k()),
            Powi(a, p) => format!("{}.powi({p})", a.recv()),
            Cast(t, a) => format!("({} as {t} as f64)", a.k()),
            Select(c, a, b) => format!("(if {} {{ {} }} else {{ {} }})", c.k(), a.k(), b.k()),
            Not(a) => format!("(!{})", a.k()),
            Red(r, a) => format!("{}.{r}()", a.recv()),
            Axis(r, a, k, None) => format!("{}.{r}_axis(Axis({k}))", a.recv()),
            Axis(r, a, k, Some(dd)) => format!("{}.{r}_axis(Axis({k}), {dd:?})", a.recv()),
            Ins(a, k) => format!("{}.insert_axis(Axis({k}))", a.recv()),
            T(a, false) => format!("{}.t()", a.recv()),
            T(a, true) => format!("{}.reversed_axes()", a.recv()),
            AsF64(a) => format!("({} as f64)", a.k()),
            Dot(a, b) => format!("{}.dot(&{})", a.recv(), b.k()),
        }
    }

    /// The reading's text: an `ArrayD` (a 0-d one for a scalar). `k1` names the 1-D
    /// reductions: `k1` (lanes), or `k1s` for a `strict` kernel (in order).
    fn r(&self, k1: &str) -> String {
        let f1 = |a: &X, body: String| format!("ew1(&{}, &|p: f64| {body})", a.r(k1));
        let f2 = |a: &X, b: &X, body: String| format!("ew2(&{}, &{}, &|p: f64, q: f64| {body})", a.r(k1), b.r(k1));
        match self {
            Leaf(n, _) => format!("{n}.clone()"),
            Lit(c) => format!("sc({c:?}_f64)"),
            Bin(op, a, b) | Cmp(op, a, b) => f2(a, b, format!("p {op} q")),
            MBin(op, a, b) => format!("ew2(&{}, &{}, &|p: bool, q: bool| p {op} q)", a.r(k1), b.r(k1)),
            Neg(a) => f1(a, "-p".into()),
            M1(f @ ("exp" | "ln" | "sin"), a) => f1(a, format!("loopfuse::math::{f}(p)")),
            M1(f, a) | Pred(f, a) => f1(a, format!("p.{f}()")),
            M2(f, a, b) => f2(a, b, format!("p.{f}(q)")),
            MulAdd(a, b, c) => {
                format!("ew3(&{}, &{}, &{}, &|p: f64, q: f64, r: f64| p.mul_add(q, r))", a.r(k1), b.r(k1), c.r(k1))
            }
            Powi(a, p) => f1(a, format!("p.powi({p})")),
            Cast(t, a) => f1(a, format!("p as {t} as f64")),
            Select(c, a, b) => {
                format!(
                    "ew3(&{}, &{}, &{}, &|c: bool, p: f64, q: f64| if c {{ p }} else {{ q }})",
                    c.r(k1),
                    a.r(k1),
                    b.r(k1)
                )
            }
            Not(a) => format!("ew1(&{}, &|p: bool| !p)", a.r(k1)),
            Red(r, a) => format!("whole(&{}, &{k1}_{r})", a.r(k1)),
            Axis(r, a, k, dd) => {
                let panics = matches!(*r, "min" | "max" | "argmin" | "argmax");
                let el = if red_el(r) == El::B || *r == "count" { "bool" } else { "f64" };
                let call = match dd {
                    Some(dd) => format!("{k1}_{r}_dd(l, {dd:?})"),
                    None => format!("{k1}_{r}(l)"),
                };
                format!("along(&{}, {k}, {panics}, &|l: &[{el}]| {call})", a.r(k1))
            }
            Ins(a, k) => format!("ins(&{}, {k})", a.r(k1)),
            T(a, _) => format!("tr(&{})", a.r(k1)),
            AsF64(a) => format!("ew1(&{}, &|p: usize| p as f64)", a.r(k1)),
            Dot(a, b) => {
                format!(
                    "along(&ew2(&{}, &{}, &|p: f64, q: f64| p * q), 1, false, &|l: &[f64]| {k1}_sum(l))",
                    a.r(k1),
                    b.r(k1)
                )
            }
        }
    }
}

// ---- the generator -------------------------------------------------------------------------------

#[derive(Clone, Debug)]
enum S {
    Let {
        name: String,
        mutable: bool,
        e: X,
    },
    Compound {
        target: String,
        op: &'static str,
        e: X,
    },
    /// `o op e;` into the output parameter `o` (`[n, m]`): `+= -= *=` or `[..] =`.
    Out {
        op: &'static str,
        e: X,
    },
    /// A loop nest over `1..n - 1 × 1..m - 1` (`lower/nest.rs`), as the kernel's text and
    /// the reading's (the same loop in plain Rust on `Ix2` views of the reading's arrays):
    /// `o[[i, j]] = e` / `+= e` (the kernel's only use of `o`), or `let mut s = 0.0; .. s += e`.
    Nest {
        k: String,
        r: String,
    },
}

pub struct NdKernel {
    id: usize,
    square: bool,
    /// Which of `x, y, w, a, z` the kernel takes.
    params: [bool; 5],
    /// `x` is `ArrayViewD<f64>` (and every array result `ArrayD`).
    dyn_x: bool,
    /// `x` is `&Array2<f64>` (an owned C or F array).
    ref_x: bool,
    /// The output parameter `o`: `None`, or `Some(true)` for `&mut Array2<f64>`,
    /// `Some(false)` for `ArrayViewMut2<f64>` (any layout).
    out: Option<bool>,
    /// `-> Result<_, KernelError>`, ending in `Ok(..)`.
    result: bool,
    /// `#[kernel(strict)]`: the reading's reductions are the 1-D in-order ones.
    strict: bool,
    stmts: Vec<S>,
    results: Vec<X>,
    /// `#[kernel(parallel)]`: every second N-d kernel (by id, so the random stream stays
    /// what it was), also run at a shape past the parallel threshold, where its passes
    /// split on the global pool (`runtime/src/nd/par.rs`) and must still equal the reading.
    parallel: bool,
}

#[derive(Clone, Debug)]
struct Bind {
    name: String,
    ty: Ty,
    mutable: bool,
}

struct Gen<'a> {
    rng: &'a mut Rng,
    g: Grammar,
    square: bool,
    /// The kernel takes `z: ArrayView3<f64>` of shape `[K, n, m]`.
    z: bool,
    /// The kernel writes the output parameter `o`.
    out: bool,
    binds: Vec<Bind>,
    /// How many of `binds` are the parameters (the first ones).
    params: usize,
    fresh: usize,
}

const LITS: &[f64] = &[0.5, 1.0, 2.0, 3.0, 0.25, 1.5, -1.0, -2.0, 4.0, 0.75, -0.5, 0.0];

impl Gen<'_> {
    fn m(&self) -> D {
        if self.square {
            D::N
        } else {
            D::M
        }
    }
    fn lit(&mut self) -> X {
        Lit(self.rng.pick(LITS))
    }
    fn visible(&self) -> Vec<Bind> {
        let mut seen = std::collections::HashSet::new();
        self.binds.iter().rev().filter(|b| seen.insert(b.name.clone())).cloned().collect()
    }
    /// A target shape for a value.
    fn shape(&mut self) -> Vec<D> {
        let (n, m) = (D::N, self.m());
        match self.rng.below(12) {
            0 if self.z => vec![D::K, n, m],
            0..=4 => vec![n, m],
            5 => vec![m],
            6 => vec![n],
            7 => vec![m, n],
            8 => vec![n, D::One],
            9 => vec![n, n, m],
            10 => vec![n, m, D::One],
            _ => vec![],
        }
    }

    /// Leaves of element type `el` that broadcast to `s`: bindings, and their `insert_axis`
    /// and `t()` views when those fit.
    fn leaves(&self, el: El, s: &[D]) -> (Vec<X>, Vec<X>) {
        let mut direct = Vec::new();
        let mut views = Vec::new();
        for b in self.visible().into_iter().filter(|b| b.ty.el == el) {
            let leaf = Leaf(b.name.clone(), b.ty.clone());
            if compat(&b.ty.shape, s) {
                direct.push(leaf.clone());
            }
            let r = b.ty.shape.len();
            if r >= 1 && r < s.len() {
                for q in 0..=r {
                    let mut sh = b.ty.shape.clone();
                    sh.insert(q, D::One);
                    if compat(&sh, s) && sh != b.ty.shape {
                        views.push(Ins(bx(leaf.clone()), q));
                    }
                }
            }
            if r == 2 {
                let mut sh = b.ty.shape.clone();
                sh.reverse();
                if compat(&sh, s) {
                    views.push(T(bx(leaf.clone()), false));
                    views.push(T(bx(leaf.clone()), true));
                }
            }
        }
        (direct, views)
    }

    fn leaf(&mut self, s: &[D]) -> X {
        let (direct, views) = self.leaves(El::F, s);
        let arrays: Vec<X> = direct.iter().filter(|e| e.rank() > 0).cloned().collect();
        if !arrays.is_empty() && (views.is_empty() || self.rng.pct(75)) {
            return self.rng.pick(&arrays);
        }
        if !views.is_empty() {
            return self.rng.pick(&views);
        }
        if !direct.is_empty() && self.rng.pct(60) {
            return self.rng.pick(&direct);
        }
        self.lit()
    }

    /// An f64 expression that broadcasts to `s`.
    fn f(&mut self, s: &[D], d: usize) -> X {
        if d == 0 || self.rng.pct(20) {
            return self.leaf(s);
        }
        let d = d - 1;
        let scalar_ctx = s.is_empty();
        match self.rng.below(20) {
            0..=2 => {
                let op = self.rng.pick(&["+", "-", "*", "+", "-", "*", "/", "%"]);
                let b = match self.rng.below(4) {
                    0 | 1 => self.f(s, d),
                    2 => self.sca(d),
                    _ => self.lit(),
                };
                Bin(op, bx(self.f(s, d)), bx(b))
            }
            3 => {
                let op = self.rng.pick(&["+", "-", "*", "/"]);
                let a = if self.rng.pct(50) { self.sca(d) } else { self.lit() };
                Bin(op, bx(a), bx(self.f(s, d)))
            }
            4 => Neg(bx(self.f(s, d))),
            5 | 6 => {
                let a = self.f(s, d);
                let mut fs = vec!["abs", "sqrt", "floor", "round", "trunc", "signum", "recip", "fract", "ceil"];
                // Math on a plain scalar is std's, on an array loopfuse's (README).
                if self.g.math && a.rank() > 0 {
                    fs.extend(["exp", "ln", "sin"]);
                }
                M1(self.rng.pick(&fs), bx(a))
            }
            7 => {
                let f = self.rng.pick(&["min", "max", "min", "max", "copysign", "hypot"]);
                // The sign of a NaN that arithmetic makes is unspecified: copy literal signs.
                let b = if self.rng.pct(60) && f != "copysign" { self.f(s, d) } else { self.lit() };
                M2(f, bx(self.f(s, d)), bx(b))
            }
            8 => {
                let b = if self.rng.pct(50) { self.f(s, d) } else { self.lit() };
                let c = if self.rng.pct(50) { self.f(s, d) } else { self.lit() };
                MulAdd(bx(self.f(s, d)), bx(b), bx(c))
            }
            9 => Powi(bx(self.f(s, d)), self.rng.pick(&[2, 3])),
            10 => Cast(self.rng.pick(&["f32", "i32"]), bx(self.f(s, d))),
            11 | 12 if !scalar_ctx => {
                let c = self.mask(s, d);
                if c.rank() == 0 {
                    return Bin("+", bx(self.f(s, d)), bx(self.f(s, d)));
                }
                let a = if self.rng.pct(60) { self.f(s, d) } else { self.lit() };
                let b = if self.rng.pct(60) || (!self.g.literal_selects && a.literal_only()) {
                    self.f(s, d)
                } else {
                    self.lit()
                };
                let b = if !self.g.literal_selects && a.literal_only() && b.literal_only() { self.leaf(s) } else { b };
                Select(bx(c), bx(a), bx(b))
            }
            13 => {
                // A whole reduction feeding later work: `x - x.mean()`.
                let op = self.rng.pick(&["-", "*", "+", "/"]);
                let a = self.f(s, d);
                let r = self.red(d);
                Bin(op, bx(a), bx(r))
            }
            14 | 15 => self.axis_keep(s, d),
            16 | 17 if s.len() < 3 => self.axis_expand(s, d),
            18 if s.len() == 2 => {
                let t = vec![s[1], s[0]];
                let a = self.f(&t, d);
                match a.rank() {
                    2 => T(bx(a), self.rng.pct(25)),
                    1 => Ins(bx(a), 1),
                    _ => a,
                }
            }
            19 if s.len() == 1 => self.dot(s, d),
            _ => {
                let op = self.rng.pick(&["+", "-", "*"]);
                Bin(op, bx(self.f(s, d)), bx(self.f(s, d)))
            }
        }
    }

    /// `a.dot(&v)` of shape `s = [p]`: a `[p, q]` matrix and a `[q]` vector; when the
    /// operands drawn do not have exactly those shapes, the same sum spelled out.
    fn dot(&mut self, s: &[D], d: usize) -> X {
        let q = self.rng.pick(&[D::N, self.m()]);
        let a = self.f(&[s[0], q], d);
        let b = self.f(&[q], d);
        if a.ty().shape == [s[0], q] && b.ty().shape == [q] {
            return Dot(bx(a), bx(b));
        }
        let p = Bin("*", bx(a), bx(b));
        match p.rank() {
            0 => p,
            1 => Red("sum", bx(p)),
            _ => Axis("sum", bx(p), 1, None),
        }
    }

    /// An f64 array (rank at least 1) near `s` (for reductions, which need not broadcast).
    fn any_arr(&mut self, s: &[D], d: usize) -> X {
        for _ in 0..3 {
            let e = self.f(s, d);
            if e.rank() > 0 {
                return e;
            }
        }
        // An array binding: `x` stays one (shadowing keeps an array an array).
        let b =
            self.visible().into_iter().find(|b| b.ty.el == El::F && !b.ty.shape.is_empty()).expect("an array binding");
        Leaf(b.name, b.ty)
    }

    /// A mask of rank at least 1 (for reductions).
    fn any_mask(&mut self, s: &[D], d: usize) -> X {
        let m = self.mask(s, d);
        if m.rank() > 0 {
            return m;
        }
        let a = self.any_arr(s, d);
        Cmp(">", bx(a), bx(self.lit()))
    }

    fn axis_op(&mut self) -> (&'static str, Option<f64>) {
        let r = self.rng.pick(&["sum", "mean", "sum", "mean", "var", "std", "min", "max", "prod"]);
        let dd = matches!(r, "var" | "std").then(|| self.rng.pick(&[0.0, 1.0]));
        (r, dd)
    }

    /// An axis reduction of an `s`-shaped value, broadcasting back to `s`: along axis 0 as
    /// it is, along any axis through `insert_axis`.
    fn axis_keep(&mut self, s: &[D], d: usize) -> X {
        let inner = self.f(s, d);
        let r = inner.rank();
        let (op, dd) = self.axis_op();
        // No 0-d arrays: a reduction of a vector is a whole reduction.
        match r {
            0 => return inner,
            1 => return Red(op, bx(inner)),
            _ => {}
        }
        let k = self.rng.below(r);
        let e = Axis(op, bx(inner), k, dd);
        if k != 0 || self.rng.pct(30) {
            Ins(bx(e), k)
        } else {
            e
        }
    }

    /// An axis reduction of a value with one more axis than `s` (`(x.insert_axis(Axis(1)) -
    /// y.insert_axis(Axis(0))).powi(2).sum_axis(Axis(2))`, `(x * w).sum_axis(Axis(1))`).
    fn axis_expand(&mut self, s: &[D], d: usize) -> X {
        let p = self.rng.below(s.len() + 1);
        let dim = self.rng.pick(&[D::N, self.m()]);
        let mut t = s.to_vec();
        t.insert(p, dim);
        let inner = self.f(&t, d);
        let o = t.len() - inner.rank();
        let (op, dd) = self.axis_op();
        if inner.rank() == 0 {
            return inner;
        }
        if inner.rank() == 1 || p < o {
            return Red(op, bx(inner));
        }
        Axis(op, bx(inner), p - o, dd)
    }

    /// A mask that broadcasts to `s` (of rank at least 1 when `s` has).
    fn mask(&mut self, s: &[D], d: usize) -> X {
        let (direct, _) = self.leaves(El::B, s);
        let direct: Vec<X> = direct.into_iter().filter(|e| e.rank() > 0).collect();
        if !direct.is_empty() && self.rng.pct(30) {
            return self.rng.pick(&direct);
        }
        let d = d.saturating_sub(1);
        let m = match self.rng.below(9) {
            0..=3 => {
                let op = self.rng.pick(&[">", "<", ">=", "<=", "==", "!="]);
                let b = match self.rng.below(3) {
                    0 => self.f(s, d),
                    1 => self.sca(d),
                    _ => self.lit(),
                };
                Cmp(op, bx(self.f(s, d)), bx(b))
            }
            4 => Pred(self.rng.pick(&["is_nan", "is_finite"]), bx(self.f(s, d))),
            5 if d > 0 => Not(bx(self.mask(s, d))),
            6 if d > 0 => MBin(self.rng.pick(&["&", "|", "^"]), bx(self.mask(s, d)), bx(self.mask(s, d))),
            7 if d > 0 && self.g.nd_mask_axis => {
                // `any_axis` / `all_axis`, kept broadcastable as `axis_keep` does.
                let inner = self.mask(s, d);
                if inner.rank() <= 1 {
                    inner
                } else {
                    let k = self.rng.below(inner.rank());
                    Ins(bx(Axis(self.rng.pick(&["any", "all"]), bx(inner), k, None)), k)
                }
            }
            _ => Cmp(">", bx(self.f(s, d)), bx(self.lit())),
        };
        if m.rank() == 0 && !s.is_empty() {
            let a = self.leaf(s);
            if a.rank() > 0 {
                return Cmp(self.rng.pick(&[">", "<="]), bx(a), bx(self.lit()));
            }
        }
        m
    }

    /// A whole reduction, as an f64 scalar.
    fn red(&mut self, d: usize) -> X {
        let d = d.saturating_sub(1);
        let s = self.shape();
        let s = if s.is_empty() { vec![D::N, self.m()] } else { s };
        match self.rng.below(10) {
            0..=6 => {
                let r = self.rng.pick(&["sum", "mean", "var", "std", "min", "max", "sum", "mean", "prod"]);
                Red(r, bx(self.any_arr(&s, d)))
            }
            _ => {
                let m = self.any_mask(&s, d);
                AsF64(bx(Red("count", bx(m))))
            }
        }
    }

    /// An f64 scalar.
    fn sca(&mut self, d: usize) -> X {
        let scalars: Vec<X> = self.leaves(El::F, &[]).0;
        match self.rng.below(6) {
            0 if !scalars.is_empty() => self.rng.pick(&scalars),
            1 if d > 0 => {
                let op = self.rng.pick(&["+", "-", "*", "/"]);
                Bin(op, bx(self.sca(d - 1)), bx(self.lit()))
            }
            2 => self.lit(),
            _ => self.red(d),
        }
    }

    /// Whether `name` is a parameter the kernel takes and no `let` shadows.
    fn is_param(&self, name: &str) -> bool {
        let last = self.binds.iter().rposition(|b| b.name == name);
        last.is_some_and(|i| i < self.params)
    }

    /// A scalar expression of a nest's body over `x[[i + a, j + b]]` (`a`, `b` in -1..=1),
    /// `y[[..]]` when the kernel takes `y`, `a`, literals: the kernel's text and the reading's
    /// (`xr[[..]]`: `Ix2` views). Only operations whose bits any order of evaluation keeps.
    fn nest_expr(&mut self, d: usize) -> (String, String) {
        if d == 0 || self.rng.pct(30) {
            let arrays: Vec<String> = ["x", "y"].into_iter().filter(|n| self.is_param(n)).map(String::from).collect();
            let scalar = self.visible().into_iter().any(|b| b.name == "a");
            return match self.rng.below(6) {
                0 => {
                    let c = self.rng.pick(LITS);
                    (format!("{c:?}_f64"), format!("{c:?}_f64"))
                }
                1 if scalar => ("a".into(), "s0(&a)".into()),
                _ => {
                    let v = self.rng.pick(&arrays);
                    let off = |o: usize, i: &str| match o {
                        0 => format!("{i} - 1"),
                        1 => i.to_string(),
                        _ => format!("{i} + 1"),
                    };
                    let (i, j) = (off(self.rng.below(3), "i"), off(self.rng.below(3), "j"));
                    (format!("{v}[[{i}, {j}]]"), format!("{v}r[[{i}, {j}]]"))
                }
            };
        }
        match self.rng.below(6) {
            0 => {
                let (k, r) = self.nest_expr(d - 1);
                (format!("{k}.abs()"), format!("({r}).abs()"))
            }
            1 => {
                let (k, r) = self.nest_expr(d - 1);
                (format!("({k}).sqrt()"), format!("({r}).sqrt()"))
            }
            2 => {
                let (c, cr) = self.nest_expr(d - 1);
                let (a, ar) = self.nest_expr(d - 1);
                let (b, br) = self.nest_expr(d - 1);
                (
                    format!("(if {c} > 0.0 {{ {a} }} else {{ {b} }})"),
                    format!("(if {cr} > 0.0 {{ {ar} }} else {{ {br} }})"),
                )
            }
            _ => {
                let op = self.rng.pick(&["+", "-", "*", "/", "+"]);
                let (a, ar) = self.nest_expr(d - 1);
                let (b, br) = self.nest_expr(d - 1);
                (format!("({a} {op} {b})"), format!("({ar} {op} {br})"))
            }
        }
    }

    /// An expression of a per-row loop's body over `row` (always read), `w` (a row's
    /// length), `a`, literals and `row.mean()`: the kernel's text, and the reading's over the
    /// whole matrix (`x` for `row`, the mean per row as a column).
    fn row_expr(&mut self, d: usize, top: bool) -> (String, String) {
        let has = |g: &Self, n: &str| g.is_param(n);
        if d == 0 {
            return match self.rng.below(5) {
                0 if has(self, "w") => ("w".into(), "w.clone()".into()),
                1 if has(self, "a") => ("a".into(), "a.clone()".into()),
                2 => ("row.mean()".into(), "ins(&along(&x, 1, false, &|l: &[f64]| k1_mean(l)), 1)".into()),
                3 => {
                    let c = self.rng.pick(LITS);
                    (format!("{c:?}_f64"), format!("sc({c:?}_f64)"))
                }
                _ => ("row".into(), "x.clone()".into()),
            };
        }
        let (a, ar) = if top { ("row".to_string(), "x.clone()".to_string()) } else { self.row_expr(d - 1, false) };
        match self.rng.below(5) {
            0 => (format!("({a}).abs()"), format!("ew1(&{ar}, &|p: f64| p.abs())")),
            1 => (format!("({a}).sqrt()"), format!("ew1(&{ar}, &|p: f64| p.sqrt())")),
            _ => {
                let op = self.rng.pick(&["+", "-", "*", "/"]);
                let (b, br) = self.row_expr(d - 1, false);
                (format!("({a} {op} {b})"), format!("ew2(&{ar}, &{br}, &|p: f64, q: f64| p {op} q)"))
            }
        }
    }

    /// `let mut s = 0.0; for row in x.outer_iter() { s += e.red(); }`: a per-row loop
    /// (`lower/rows.rs`) accumulating one reduction per row.
    fn row_loop(&mut self) -> S {
        if self.rng.pct(35) {
            return self.row_element_loop();
        }
        let (e, er) = self.row_expr(2, true);
        let red = self.rng.pick(&["sum", "mean", "max", "min"]);
        let panics = matches!(red, "max" | "min");
        let name = self.name("s");
        self.binds.push(Bind { name: name.clone(), ty: Ty { el: El::F, shape: vec![] }, mutable: false });
        let iter = self.rng.pick(&["x.outer_iter()", "x.rows()"]);
        S::Nest {
            k: format!("let mut {name} = 0.0;\n    for row in {iter} {{\n        {name} += ({e}).{red}();\n    }}"),
            r: format!(
                "let {name} = sc(0.0 + s0(&whole(&along(&{er}, 1, {panics}, &|l: &[f64]| k1_{red}(l)), &k1_sum)));"
            ),
        }
    }

    /// `for row in x.rows() { let mut t = 0.0; for v in row.iter() { t += f(v); } s += t; }`:
    /// a per-row loop over the row's elements (`lower/row_index.rs`), an index loop in order
    /// whose inner loop is a run (`lower/inner_pass.rs`): `t` is `0.0 + (the run's sum)`, then
    /// added to `s` in order.
    fn row_element_loop(&mut self) -> S {
        let f = self.rng.pick(&["*v * v", "v.abs()", "(v - 0.5) * 2.0", "v.max(0.25)"]);
        let iter = self.rng.pick(&["x.outer_iter()", "x.rows()"]);
        let name = self.name("s");
        self.binds.push(Bind { name: name.clone(), ty: Ty { el: El::F, shape: vec![] }, mutable: false });
        let fr = f.replace("*v", "v");
        S::Nest {
            k: format!("let mut {name} = 0.0;\n    for row in {iter} {{\n        let mut t = 0.0;\n        for v in row.iter() {{\n            t += {f};\n        }}\n        {name} += t;\n    }}"),
            r: format!("let {name} = {{\n    let xr = x.view().into_dimensionality::<Ix2>().unwrap();\n    let mut acc = 0.0;\n    for i in 0..xr.nrows() {{\n        let terms: Vec<f64> = (0..xr.ncols()).map(|j| {{ let v = xr[[i, j]]; {fr} }}).collect();\n        let t = if terms.is_empty() {{ 0.0 }} else {{ 0.0 + k1_sum(&terms) }};\n        acc += t;\n    }}\n    sc(acc)\n    }};"),
        }
    }

    /// A nest writing `o` (`op` `=` or `+=`), or summing into a new scalar `let`.
    fn nest(&mut self, out: Option<&str>) -> S {
        let (e, er) = self.nest_expr(3);
        let head = "for i in 1..x.nrows() - 1 {\n        for j in 1..x.ncols() - 1 {\n";
        let rhead = "let xr = x.view().into_dimensionality::<Ix2>().unwrap();\n    let yr = y.view().into_dimensionality::<Ix2>().unwrap();\n    let _ = (&xr, &yr);\n";
        let rloop = "for i in 1..xr.nrows() - 1 {\n        for j in 1..xr.ncols() - 1 {\n";
        match out {
            Some(op) => S::Nest {
                k: format!("{head}            o[[i, j]] {op} {e};\n        }}\n    }}"),
                r: format!("{{\n    {rhead}    let mut or = o.view_mut().into_dimensionality::<Ix2>().unwrap();\n    {rloop}            or[[i, j]] {op} {er};\n        }}\n    }}\n    }}"),
            },
            None if self.rng.pct(50) => {
                // A triangle (`lower/inner_pass.rs`): the outer loop runs in order, each run of
                // the inner one is a 1-D loop, added to the sum after it in the 1-D order.
                let name = self.name("s");
                self.binds.push(Bind { name: name.clone(), ty: Ty { el: El::F, shape: vec![] }, mutable: false });
                // At least one read that moves with `j` (else the inner loop stays in order).
                let (e, er) = if e.contains("[[") { (e, er) } else { (format!("({e}) + x[[i, j]]"), format!("({er}) + xr[[i, j]]")) };
                let head = "for i in 1..x.nrows() - 1 {\n        for j in i..x.ncols() - 1 {\n";
                let rloop = "for i in 1..xr.nrows() - 1 {\n        let mut vals = Vec::new();\n        for j in i..xr.ncols() - 1 {\n";
                S::Nest {
                    k: format!("let mut {name} = 0.0;\n    {head}            {name} += {e};\n        }}\n    }}"),
                    r: format!("let {name} = {{\n    {rhead}    let mut acc = 0.0;\n    {rloop}            vals.push({er});\n        }}\n        if !vals.is_empty() {{\n            acc += k1_sum(&vals);\n        }}\n    }}\n    sc(acc)\n    }};"),
                }
            }
            None => {
                let name = self.name("s");
                self.binds.push(Bind { name: name.clone(), ty: Ty { el: El::F, shape: vec![] }, mutable: false });
                // The kernel sums in the N-d order of a whole reduction: the reading reduces the
                // window's values, in C order, with the same 1-D reduction.
                S::Nest {
                    k: format!("let mut {name} = 0.0;\n    {head}            {name} += {e};\n        }}\n    }}"),
                    r: format!("let {name} = {{\n    {rhead}    let mut vals = Vec::new();\n    {rloop}            vals.push({er});\n        }}\n    }}\n    sc(0.0 + k1_sum(&vals))\n    }};"),
                }
            }
        }
    }

    /// A loop in order writing `o` by rows: a recurrence along each row (`m` read before its
    /// update), so it runs as written; in a `parallel` kernel its iterations own their rows
    /// (`lower/prange.rs`) and run on the pool, with the serial bits.
    fn row_scan(&mut self) -> S {
        let (e, er) = self.nest_expr(2);
        let rhead = "let xr = x.view().into_dimensionality::<Ix2>().unwrap();\n    let yr = y.view().into_dimensionality::<Ix2>().unwrap();\n    let _ = (&xr, &yr);\n";
        let body = |x: &str, o: &str, e: &str| {
            format!("for i in 1..{x}.nrows() - 1 {{\n        let mut m = 0.0;\n        for j in 1..{x}.ncols() - 1 {{\n            m = m * 0.5 + {e};\n            {o}[[i, j]] = m;\n        }}\n    }}")
        };
        S::Nest {
            k: body("x", "o", &e),
            r: format!(
                "{{\n    {rhead}    let mut or = o.view_mut().into_dimensionality::<Ix2>().unwrap();\n    {}\n    }}",
                body("xr", "or", &er)
            ),
        }
    }

    fn name(&mut self, p: &str) -> String {
        self.fresh += 1;
        format!("{p}{}", self.fresh)
    }

    fn stmt(&mut self) -> S {
        let mutables: Vec<Bind> =
            self.visible().into_iter().filter(|b| b.mutable && b.ty.el == El::F && !b.ty.shape.is_empty()).collect();
        if self.out && self.rng.pct(30) {
            let op = self.rng.pick(&["+=", "-=", "*=", "[..] =", "[..] ="]);
            let s = vec![D::N, self.m()];
            let e = self.f(&s, 2);
            return S::Out { op, e };
        }
        match self.rng.below(10) {
            0..=4 => {
                let s = self.shape();
                let e = self.f(&s, 3);
                let shadow: Vec<String> = self
                    .visible()
                    .into_iter()
                    .filter(|b| b.ty.el == El::F && !b.ty.shape.is_empty())
                    .map(|b| b.name)
                    .collect();
                // Shadowing keeps an array an array (reductions fall back to array bindings).
                let name = if !shadow.is_empty() && e.rank() > 0 && self.rng.pct(20) {
                    self.rng.pick(&shadow)
                } else {
                    self.name("t")
                };
                let mutable = e.rank() > 0 && self.rng.pct(35);
                self.binds.push(Bind { name: name.clone(), ty: e.ty(), mutable });
                S::Let { name, mutable, e }
            }
            5 | 6 => {
                let e = self.sca(2);
                let name = self.name("s");
                self.binds.push(Bind { name: name.clone(), ty: e.ty(), mutable: false });
                S::Let { name, mutable: false, e }
            }
            7 => {
                let s = self.shape();
                let s = if s.is_empty() { vec![D::N, self.m()] } else { s };
                let e = self.mask(&s, 2);
                let name = self.name("m");
                self.binds.push(Bind { name: name.clone(), ty: e.ty(), mutable: false });
                S::Let { name, mutable: false, e }
            }
            _ if !mutables.is_empty() => {
                let t = self.rng.pick(&mutables);
                let op = self.rng.pick(&["+=", "-=", "*=", "+=", "/=", "%="]);
                let e = if self.rng.pct(30) { self.sca(1) } else { self.f(&t.ty.shape, 2) };
                S::Compound { target: t.name, op, e }
            }
            _ => {
                let s = self.shape();
                let e = self.f(&s, 2);
                let name = self.name("t");
                self.binds.push(Bind { name: name.clone(), ty: e.ty(), mutable: false });
                S::Let { name, mutable: false, e }
            }
        }
    }

    fn result(&mut self) -> X {
        match self.rng.below(11) {
            10 => {
                // A mask as an array result.
                let s = vec![D::N, self.m()];
                self.any_mask(&s, 2)
            }
            0..=3 => {
                let s = self.shape();
                self.f(&s, 3)
            }
            4 | 5 if self.rng.pct(70) => self.red(2),
            4 | 5 => self.sca(2),
            6 => {
                // An axis reduction as an array result (with the index reductions).
                let s = self.shape();
                let s = if s.is_empty() { vec![D::N, self.m()] } else { s };
                let inner = self.any_arr(&s, 2);
                let (op, dd) = self.axis_op();
                let op = if self.rng.pct(40) { self.rng.pick(&["argmin", "argmax"]) } else { op };
                if inner.rank() == 1 {
                    return Red(op, bx(inner));
                }
                let k = self.rng.below(inner.rank());
                Axis(op, bx(inner), k, dd.filter(|_| matches!(op, "var" | "std")))
            }
            7 => {
                let s = vec![D::N, self.m()];
                let m = self.any_mask(&s, 2);
                if m.rank() == 1 {
                    return Red("count", bx(m));
                }
                let k = self.rng.below(m.rank());
                let ops: &[&'static str] =
                    if self.g.nd_mask_axis { &["count", "any", "all", "count"] } else { &["count"] };
                Axis(self.rng.pick(ops), bx(m), k, None)
            }
            _ => {
                let s = self.shape();
                let s = if s.is_empty() { vec![D::N, self.m()] } else { s };
                let m = self.any_mask(&s, 2);
                Red(self.rng.pick(&["any", "all", "count"]), bx(m))
            }
        }
    }
}

pub fn kernel(id: usize, rng: &mut Rng, g: Grammar) -> NdKernel {
    let square = rng.pct(25);
    let mut params = [true, rng.pct(50), rng.pct(45), rng.pct(35), rng.pct(20)];
    if !params[1] && !params[2] && rng.pct(30) {
        params[1] = true;
    }
    let dyn_x = rng.pct(15);
    let ref_x = !dyn_x && rng.pct(10);
    let out = rng.pct(25).then(|| rng.pct(30));
    let result = rng.pct(15);
    let strict = rng.pct(12);
    let mut gen = Gen { rng, g, square, z: params[4], out: out.is_some(), binds: vec![], params: 0, fresh: 0 };
    let m = gen.m();
    let tys = [vec![D::N, m], vec![D::N, m], vec![m], vec![], vec![D::K, D::N, m]];
    for (i, name) in ["x", "y", "w", "a", "z"].iter().enumerate() {
        if params[i] {
            gen.binds.push(Bind {
                name: name.to_string(),
                ty: Ty { el: El::F, shape: tys[i].clone() },
                mutable: false,
            });
        }
    }
    gen.params = gen.binds.len();
    let nstmts = gen.rng.below(5) + usize::from(out.is_some());
    let mut stmts: Vec<S> = (0..nstmts).map(|_| gen.stmt()).collect();
    if out.is_some() && !stmts.iter().any(|s| matches!(s, S::Out { .. })) {
        let e = gen.f(&[D::N, m], 2);
        stmts.push(S::Out { op: "[..] =", e });
    }
    // Loop nests (`g.nd_nests`): one writing `o`, its only use, in place of the `o op e`
    // statements; or a sum into a scalar. Nests over `ArrayViewD` or with a `strict`
    // accumulator run in order, a form of its own.
    if g.nd_nests && !dyn_x && gen.is_param("x") {
        if out.is_some() && gen.rng.pct(60) {
            stmts.retain(|s| !matches!(s, S::Out { .. }));
            let op = gen.rng.pick(&["=", "+="]);
            stmts.push(gen.nest(Some(op)));
        } else if out.is_some() && gen.rng.pct(70) {
            // The loop's only use of `o`, as a nest's (a loop in order and array expressions
            // may not share an output).
            stmts.retain(|s| !matches!(s, S::Out { .. }));
            let rows = gen.row_scan();
            stmts.push(rows);
        }
        if !strict && gen.rng.pct(40) {
            let at = gen.rng.below(stmts.len() + 1);
            let nest = gen.nest(None);
            stmts.insert(at, nest);
        }
    }
    // Per-row loops (`g.nd_rows`) over the 2-D `x`.
    if g.nd_rows && !dyn_x && !strict && gen.is_param("x") && gen.rng.pct(35) {
        let at = gen.rng.below(stmts.len() + 1);
        let rows = gen.row_loop();
        stmts.insert(at, rows);
    }
    // A kernel with an output may return nothing else.
    let nres = gen.rng.below(3) + usize::from(out.is_none() || gen.rng.pct(50));
    let results: Vec<X> = (0..nres).map(|_| gen.result()).collect();
    let parallel = (id / g.nd_every.max(1)) % 2 == 1;
    NdKernel { id, square, params, dyn_x, ref_x, out, result, strict, stmts, results, parallel }
}

fn el_text(el: El) -> &'static str {
    match el {
        El::F => "f64",
        El::B => "bool",
        El::U => "usize",
    }
}

/// A result's type: `ArrayD` for every array of a kernel over `ArrayViewD` (`dyn_x`).
fn ty_text(t: &Ty, dyn_x: bool) -> String {
    let el = el_text(t.el);
    match t.shape.len() {
        0 => el.to_string(),
        _ if dyn_x => format!("ArrayD<{el}>"),
        r => format!("Array{r}<{el}>"),
    }
}

/// `(a, b)`, `a`, or `()`.
fn tuple(v: &[String]) -> String {
    match v.len() {
        1 => v[0].clone(),
        _ => format!("({})", v.join(", ")),
    }
}

impl NdKernel {
    fn ret(&self) -> String {
        let rs: Vec<String> = self.results.iter().map(|e| ty_text(&e.ty(), self.dyn_x)).collect();
        match (tuple(&rs), self.result) {
            (t, true) => format!(" -> Result<{t}, loopfuse::KernelError>"),
            (t, false) if t == "()" => String::new(),
            (t, false) => format!(" -> {t}"),
        }
    }

    fn k1(&self) -> &'static str {
        if self.strict {
            "k1s"
        } else {
            "k1"
        }
    }

    pub fn source(&self) -> String {
        let mut s = String::new();
        let x = match (self.dyn_x, self.ref_x) {
            (true, _) => "x: ArrayViewD<f64>",
            (_, true) => "x: &Array2<f64>",
            _ => "x: ArrayView2<f64>",
        };
        let mut ps: Vec<&str> = [x, "y: ArrayView2<f64>", "w: ArrayView1<f64>", "a: f64", "z: ArrayView3<f64>"]
            .iter()
            .zip(self.params)
            .filter(|p| p.1)
            .map(|p| *p.0)
            .collect();
        match self.out {
            Some(true) => ps.push("o: &mut Array2<f64>"),
            Some(false) => ps.push("o: ArrayViewMut2<f64>"),
            None => {}
        }
        let opts: Vec<&str> = [("strict", self.strict), ("parallel", self.parallel)]
            .into_iter()
            .filter_map(|(o, on)| on.then_some(o))
            .collect();
        let attr = if opts.is_empty() { "#[kernel]".to_string() } else { format!("#[kernel({})]", opts.join(", ")) };
        writeln!(s, "{attr}\nfn k{}({}){} {{", self.id, ps.join(", "), self.ret()).unwrap();
        for st in &self.stmts {
            match st {
                S::Let { name, mutable, e } => {
                    writeln!(s, "    let {}{name} = {};", if *mutable { "mut " } else { "" }, e.typed()).unwrap()
                }
                S::Compound { target, op, e } => writeln!(s, "    {target} {op} {};", e.k()).unwrap(),
                S::Out { op, e } => writeln!(
                    s,
                    "    o{} {};",
                    if op.starts_with('[') { op.to_string() } else { format!(" {op}") },
                    e.k()
                )
                .unwrap(),
                S::Nest { k, .. } => writeln!(s, "    {k}").unwrap(),
            }
        }
        let v: Vec<String> = self.results.iter().map(|e| e.k()).collect();
        match (tuple(&v), self.result) {
            (t, true) => writeln!(s, "    Ok({t})").unwrap(),
            (t, false) if t == "()" => {}
            (t, false) => writeln!(s, "    {t}").unwrap(),
        }
        s.push_str("}\n");
        s
    }

    pub fn reading(&self) -> String {
        let k1 = self.k1();
        let mut s = String::new();
        let ret: Vec<String> = self
            .results
            .iter()
            .map(|e| {
                let t = e.ty();
                let el = el_text(t.el);
                if t.shape.is_empty() {
                    el.to_string()
                } else {
                    format!("ArrayD<{el}>")
                }
            })
            .collect();
        writeln!(
            s,
            "fn r{}(x: ArrayD<f64>, y: ArrayD<f64>, w: ArrayD<f64>, z: ArrayD<f64>, a: f64, o: &mut ArrayD<f64>) -> {} {{",
            self.id,
            tuple(&ret)
        )
        .unwrap();
        writeln!(s, "    let a = sc(a);").unwrap();
        for st in &self.stmts {
            match st {
                S::Let { name, mutable, e } => {
                    writeln!(s, "    let {}{name} = {};", if *mutable { "mut " } else { "" }, e.r(k1)).unwrap()
                }
                S::Compound { target, op, e } => {
                    writeln!(s, "    {target} = comp(&{target}, &{}, &|p: f64, q: f64| p {} q);", e.r(k1), &op[..1])
                        .unwrap()
                }
                S::Out { op, e } => {
                    let f = if op.starts_with('[') { "q".to_string() } else { format!("p {} q", &op[..1]) };
                    writeln!(s, "    *o = comp(o, &{}, &|p: f64, q: f64| {f});", e.r(k1)).unwrap()
                }
                S::Nest { r, .. } => writeln!(s, "    {r}").unwrap(),
            }
        }
        let v: Vec<String> =
            self.results.iter().map(|e| if e.rank() == 0 { format!("s0(&{})", e.r(k1)) } else { e.r(k1) }).collect();
        if !v.is_empty() {
            writeln!(s, "    {}", tuple(&v)).unwrap();
        }
        s.push_str("}\n");
        s
    }

    /// The largest value's element count as Rust text over `n`, `m`: the shapes whose values
    /// would be too large to test (`(n, 1, m) + (n, m, 1)` at (3, 20000) has 1.2e9) are
    /// skipped.
    fn largest(&self) -> String {
        let mut shapes = Vec::new();
        for st in &self.stmts {
            match st {
                S::Let { e, .. } | S::Compound { e, .. } | S::Out { e, .. } => e.shapes(&mut shapes),
                S::Nest { .. } => {}
            }
        }
        for e in &self.results {
            e.shapes(&mut shapes);
        }
        let mut sizes: Vec<String> = shapes
            .iter()
            .map(|sh| {
                let f: Vec<&str> = sh
                    .iter()
                    .map(|d| match d {
                        D::N => "n",
                        D::M => "m",
                        D::K => "2",
                        D::One => "1",
                    })
                    .collect();
                format!("[{}].iter().product::<usize>()", f.join(", "))
            })
            .collect();
        sizes.sort();
        sizes.dedup();
        // A kernel of loops only (a nest writing `o`) has no array value of its own.
        sizes.push("2 * n * m".into());
        format!("[{}].into_iter().max().unwrap()", sizes.join(", "))
    }

    /// The kernel, its reading and its test function.
    pub fn emit(&self) -> String {
        let src = self.source();
        let mut s = src.clone();
        s.push_str(&self.reading());
        let id = self.id;
        let largest = self.largest();
        let nres = self.results.len() + usize::from(self.out.is_some());
        let x = match (self.dyn_x, self.ref_x) {
            (true, _) => "xv.into_dyn()",
            (_, true) => "&xv.to_owned()",
            _ => "xv",
        };
        let mut args: Vec<&str> =
            [x, "yv", "wv", "a", "zv"].iter().zip(self.params).filter(|p| p.1).map(|p| *p.0).collect();
        match self.out {
            Some(true) => args.push("&mut oa"),
            Some(false) => args.push("lo.view_mut(li)"),
            None => {}
        }
        let args = args.join(", ");
        let unwrap = if self.result { ".unwrap()" } else { "" };
        // The output's values after the call, as the last result.
        let out_vals = match self.out {
            Some(true) => "oa.vals(&mut v);",
            Some(false) => "lo.views()[li].1.to_owned().vals(&mut v);",
            None => "",
        };
        let shapes = match (self.square, self.parallel) {
            (true, false) => "SHAPES_SQ",
            (false, false) => "SHAPES_ND",
            (true, true) => "SHAPES_SQ_PAR",
            (false, true) => "SHAPES_ND_PAR",
        };
        write!(
            s,
            r####"const SRC{id}: &str = r###"{src}"###;
fn t{id}(ctx: &mut Ctx) {{
    let modes = [M::Exact; {nres}];
    for &(n, m) in {shapes} {{
        if {largest} > 1 << 21 {{
            continue;
        }}
        for set in 0..SETS {{
            let x = mat(set, n, m, 1);
            let y = mat(set, n, m, 2);
            // Data set 1 stretches `w` (one element).
            let wl = if set == 1 {{ 1 }} else {{ m }};
            let w = Array1::from(data(set, wl, 3));
            let z = cube(set, 2, n, m, 6);
            let o0 = mat(set, n, m, 5);
            let empty = Array2::zeros((0, 0));
            let a = scalar(set, 4);
            let reading = |x: &Array2<f64>, y: &Array2<f64>, w: &Array1<f64>, z: &Array3<f64>| {{
                run(|| {{
                    let mut v = Vec::new();
                    let mut o = o0.clone().into_dyn();
                    r{id}(x.clone().into_dyn(), y.clone().into_dyn(), w.clone().into_dyn(), z.clone().into_dyn(), a, &mut o)
                        .vals(&mut v);
                    if {has_out} {{
                        o.vals(&mut v);
                    }}
                    v
                }})
            }};
            let want = reading(&x, &y, &w, &z);
            let (lx, ly, lw, lz) = (L2::new(&x), L2::new(&y), L1::new(&w), L3::new(&z));
            let (vx, vy, vw, vz) = (lx.views(), ly.views(), lw.views(), lz.views());
            for li in 0..vx.len() {{
                let ((nx, xv), (ny, yv), (nw, wv)) = (vx[li], vy[(li + 2) % vy.len()], vw[li % vw.len()]);
                let (nz, zv) = vz[(li + 1) % vz.len()];
                let got = levels(|| {{
                    run(|| {{
                        let mut v = Vec::new();
                        let mut lo = L2::new(if {has_out} {{ &o0 }} else {{ &empty }});
                        let mut oa = lo.owners[li % 2].clone();
                        k{id}({args}){unwrap}.vals(&mut v);
                        {out_vals}
                        v
                    }})
                }});
                let case = format!("x, y ({{n}}, {{m}}), w [{{wl}}]; layouts x {{nx}}, y {{ny}}, w {{nw}}, z {{nz}}, o {{}}", L2_NAMES[li]);
                if !ctx.check_at({id}, SRC{id}, &case, set, &want, &got, &modes) {{
                    return;
                }}
            }}
            // Stride-0 inputs: `x` repeats its first row, `y` its first column, `w` and `z`
            // their first element and plane, each as a broadcast view (the reading gets
            // the same logical arrays, owned).
            if n > 0 && m > 0 {{
                let (x0, y0, w0, z0) = (x.slice(s![0..1, ..]), y.slice(s![.., 0..1]), w.slice(s![0..1]), z.slice(s![0..1, .., ..]));
                let (xb, yb) = (x0.broadcast((n, m)).unwrap(), y0.broadcast((n, m)).unwrap());
                let (wb, zb) = (w0.broadcast(wl).unwrap(), z0.broadcast((2, n, m)).unwrap());
                let want = reading(&xb.to_owned(), &yb.to_owned(), &wb.to_owned(), &zb.to_owned());
                let li = 0;
                let got = levels(|| {{
                    run(|| {{
                        let (xv, yv, wv, zv) = (xb, yb, wb, zb);
                        let mut v = Vec::new();
                        let mut lo = L2::new(if {has_out} {{ &o0 }} else {{ &empty }});
                        let mut oa = lo.owners[0].clone();
                        k{id}({args}){unwrap}.vals(&mut v);
                        {out_vals}
                        v
                    }})
                }});
                let case = format!("x, y ({{n}}, {{m}}), w [{{wl}}]; stride-0 x, y, w, z");
                if !ctx.check_at({id}, SRC{id}, &case, set, &want, &got, &modes) {{
                    return;
                }}
            }}
        }}
    }}
}}
"####,
            has_out = self.out.is_some(),
        )
        .unwrap();
        s
    }
}
