//! The kernel vocabulary: every method name a kernel body may call on an array, in one table.
//!
//! Lowering looks names up here, code generation reads the `math`/`staged` flags, the error
//! hints are built from it, and the lists in `README.md` and the crate docs are checked
//! against it (the tests at the bottom). A method added here is usable everywhere at once;
//! the facade's `tests/vocab.rs` checks that every float method exists on
//! `loopfuse::Float` and every math method has its runtime function and slice helper.

/// Which element types a method exists for (as a Rust std method).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Elems {
    /// `f32`/`f64` only (and so `T: loopfuse::Float`).
    Float,
    /// Integers only.
    Int,
    /// Floats and integers.
    Both,
}

/// An elementwise method: Rust std name and meaning, applied to each element.
#[derive(Debug)]
pub struct Method {
    pub name: &'static str,
    /// Arguments besides the receiver.
    pub args: usize,
    pub elems: Elems,
    /// Computed by loopfuse's vectorizable math (`runtime/src/math`, `loopfuse::math::NAME`),
    /// not std's scalar libm call, which would block vectorization of the whole loop.
    pub math: bool,
    /// Has a hand-vectorized slice kernel (`loopfuse::math::NAME_slice` dispatches to it): a
    /// pass evaluates the call a chunk at a time through a stage (`runtime/src/stage.rs`).
    pub staged: bool,
    /// Listed in the README and crate docs (the integer families are listed as `wrapping_*`).
    #[cfg_attr(not(test), allow(dead_code))]
    pub listed: bool,
}

const fn m(name: &'static str, args: usize, elems: Elems) -> Method {
    Method { name, args, elems, math: false, staged: false, listed: true }
}
const fn math(name: &'static str, args: usize) -> Method {
    Method { name, args, elems: Elems::Float, math: true, staged: false, listed: true }
}
const fn staged(name: &'static str) -> Method {
    Method { name, args: 0, elems: Elems::Float, math: true, staged: true, listed: true }
}
const fn unlisted(name: &'static str, args: usize, elems: Elems) -> Method {
    Method { name, args, elems, math: false, staged: false, listed: false }
}

use Elems::{Both, Float, Int};

/// Every elementwise method, in the order the docs list them.
pub const METHODS: &[Method] = &[
    m("abs", 0, Both),
    m("sqrt", 0, Float),
    math("cbrt", 0),
    staged("exp"),
    math("exp2", 0),
    math("exp_m1", 0),
    staged("ln"),
    staged("log2"),
    staged("log10"),
    math("ln_1p", 0),
    m("powi", 1, Float),
    math("powf", 1),
    staged("sin"),
    staged("cos"),
    staged("tan"),
    math("tanh", 0),
    math("sinh", 0),
    math("cosh", 0),
    math("asin", 0),
    math("acos", 0),
    math("atan", 0),
    math("atan2", 1),
    m("hypot", 1, Float),
    m("floor", 0, Float),
    m("ceil", 0, Float),
    m("round", 0, Float),
    m("trunc", 0, Float),
    m("fract", 0, Float),
    m("signum", 0, Both),
    m("recip", 0, Float),
    m("min", 1, Both),
    m("max", 1, Both),
    m("clamp", 2, Both),
    m("mul_add", 2, Float),
    m("copysign", 1, Float),
    m("is_nan", 0, Float),
    m("is_finite", 0, Float),
    m("is_infinite", 0, Float),
    m("is_sign_negative", 0, Float),
    m("is_sign_positive", 0, Float),
    m("to_degrees", 0, Float),
    m("to_radians", 0, Float),
    m("rem_euclid", 1, Both),
    m("div_euclid", 1, Both),
    m("pow", 1, Int),
    m("abs_diff", 1, Int),
    unlisted("wrapping_add", 1, Int),
    unlisted("wrapping_sub", 1, Int),
    unlisted("wrapping_mul", 1, Int),
    unlisted("wrapping_neg", 0, Int),
    unlisted("saturating_add", 1, Int),
    unlisted("saturating_sub", 1, Int),
    unlisted("saturating_mul", 1, Int),
];

/// The elementwise method called `name`.
pub fn method(name: &str) -> Option<&'static Method> {
    METHODS.iter().find(|m| m.name == name)
}

/// A whole-array reduction (a no-argument method on an array).
#[derive(Clone, Copy, PartialEq, Eq, Debug, Hash, PartialOrd, Ord)]
pub enum RedKind {
    Sum,
    Prod,
    Mean,
    Var,
    Std,
    Min,
    Max,
    ArgMin,
    ArgMax,
    Any,
    All,
    Count,
    /// `acc = acc.max(e)` in a loop (Rust's NaN-ignoring `max`).
    MaxNum,
    /// `acc = acc.min(e)` in a loop.
    MinNum,
    /// `if c { acc += e }` in a loop.
    SumWhere,
    /// `x[mask].mean()`: the mean of the selected elements.
    MeanWhere,
}

/// The reductions a kernel writes as methods, with their names (NumPy's and ndarray's).
pub const REDUCTIONS: &[(&str, RedKind)] = &[
    ("sum", RedKind::Sum),
    ("prod", RedKind::Prod),
    ("mean", RedKind::Mean),
    ("var", RedKind::Var),
    ("std", RedKind::Std),
    ("min", RedKind::Min),
    ("max", RedKind::Max),
    ("argmin", RedKind::ArgMin),
    ("argmax", RedKind::ArgMax),
    ("any", RedKind::Any),
    ("all", RedKind::All),
    ("count", RedKind::Count),
];

/// A scan: a no-argument method giving the 1-D array of running values (NumPy's `cumsum`,
/// `cumprod`, `maximum.accumulate`, `minimum.accumulate`). ndarray 0.16 has no scans; the
/// names are NumPy's for the first two and pandas' `cummax`/`cummin` for the extrema, the
/// spelling users of both already know.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Hash, PartialOrd, Ord)]
pub enum ScanKind {
    Sum,
    Prod,
    Max,
    Min,
}

/// The scans a kernel writes as methods, in the order the docs list them.
pub const SCANS: &[(&str, ScanKind)] =
    &[("cumsum", ScanKind::Sum), ("cumprod", ScanKind::Prod), ("cummax", ScanKind::Max), ("cummin", ScanKind::Min)];

impl ScanKind {
    /// The scan written as the method `name()`.
    pub fn from_method(name: &str) -> Option<ScanKind> {
        SCANS.iter().find(|(n, _)| *n == name).map(|&(_, k)| k)
    }

    /// Its name, as written.
    pub fn name(self) -> &'static str {
        SCANS.iter().find(|(_, k)| *k == self).map(|(n, _)| *n).expect("every scan is in SCANS")
    }

    /// The runtime's operation (`loopfuse_runtime::scan`).
    pub fn runtime(self) -> &'static str {
        match self {
            ScanKind::Sum => "CumSum",
            ScanKind::Prod => "CumProd",
            ScanKind::Max => "CumMax",
            ScanKind::Min => "CumMin",
        }
    }
}

/// `` `cumsum`, `cumprod`, ... `` for messages.
pub fn scans_hint() -> String {
    backticked(SCANS.iter().map(|(n, _)| *n))
}

/// Reduction-like methods that are not in [`REDUCTIONS`]: `x.dot(y)` is `(x * y).sum()`,
/// `x.len()` a shape query.
pub const DOT: &str = "dot";
pub const LEN: &str = "len";
/// Iterator and closure spellings of elementwise work (`x.iter().map(|v| ..)`, ndarray's
/// `mapv`), answered with the kernel's way: a scalar `fn` called on the array.
pub const ITERATOR_METHODS: &[&str] =
    &["iter", "into_iter", "map", "mapv", "map_inplace", "mapv_inplace", "for_each", "fold", "collect"];
/// In-place reorderings, which a kernel does not do (its arrays are inputs or written whole).
pub const SORTS: &[&str] =
    &["sort", "sort_unstable", "sort_by", "sort_unstable_by", "sort_by_key", "reverse", "shuffle"];
/// `x.is_empty()` of an array parameter: `x.len() == 0`, a scalar.
pub const IS_EMPTY: &str = "is_empty";
/// `x.slice(s![a..b])` of a 1-D input: a view, as `x[a..b]` is.
pub const SLICE: &str = "slice";
/// ndarray's shape queries of an array (`lower/nd_access.rs` answers them), and `dims`,
/// what they lower to: pure, so the inner loops of `lower/inner_pass.rs` compute them once
/// per run.
pub const SHAPE_QUERIES: &[&str] = &["nrows", "ncols", LEN, "dims", "shape", "dim", "len_of", IS_EMPTY];

/// Axis reductions are the reductions' names with this suffix (`sum_axis(Axis(k))`,
/// `var_axis(Axis(k), ddof)`: ndarray's names), giving an array of the other axes.
pub const AXIS_SUFFIX: &str = "_axis";

/// Views of an N-d array, never copies: `insert_axis(Axis(k))` a new axis of length 1,
/// `t()`/`reversed_axes()` the axes reversed, `view()` the array itself.
pub const INSERT_AXIS: &str = "insert_axis";
pub const REVERSED: &[&str] = &["t", "reversed_axes"];
pub const VIEW: &str = "view";
/// ndarray's other views and reshapes, answered with the views a kernel has.
pub const OTHER_VIEWS: &[&str] = &[
    "permuted_axes",
    "swap_axes",
    "slice",
    "slice_axis",
    "into_shape",
    "into_shape_with_order",
    "reshape",
    "to_shape",
    "broadcast",
    "select",
    "index_axis",
    "row",
    "column",
    "diag",
    "remove_axis",
    "merge_axes",
];

impl RedKind {
    /// The reduction written as the method `name()`.
    pub fn from_method(name: &str) -> Option<RedKind> {
        REDUCTIONS.iter().find(|(n, _)| *n == name).map(|&(_, k)| k)
    }

    /// The axis reduction written as the method `name(Axis(k))`.
    pub fn from_axis_method(name: &str) -> Option<RedKind> {
        Self::from_method(name.strip_suffix(AXIS_SUFFIX)?)
    }

    /// Reductions with no value on empty input.
    pub fn needs_nonempty(self) -> bool {
        matches!(self, RedKind::Min | RedKind::Max | RedKind::ArgMin | RedKind::ArgMax)
    }

    /// Whether the result of a float argument depends on the order of the additions or
    /// multiplications (what the fixed lane order makes deterministic).
    pub fn reassociates(self) -> bool {
        matches!(
            self,
            RedKind::Sum
                | RedKind::Prod
                | RedKind::Mean
                | RedKind::Var
                | RedKind::Std
                | RedKind::SumWhere
                | RedKind::MeanWhere
        )
    }
}

/// Every reduction-like method name: the reductions, then `dot` and `len`.
fn reduction_names() -> impl Iterator<Item = &'static str> {
    REDUCTIONS.iter().map(|(n, _)| *n).chain([DOT, LEN])
}

fn backticked(names: impl Iterator<Item = &'static str>) -> String {
    names.map(|n| format!("`{n}`")).collect::<Vec<_>>().join(", ")
}

/// `` `sum`, `prod`, ... `dot`, `len` `` for messages.
pub fn reductions_hint() -> String {
    backticked(reduction_names())
}

/// The first few elementwise methods, for messages.
pub fn methods_hint() -> String {
    backticked(METHODS.iter().take(12).map(|m| m.name))
}

/// See `loopfuse_macros::__vocab_check`.
pub fn check() -> proc_macro2::TokenStream {
    use quote::{format_ident, quote};
    let call = |m: &Method, x: proc_macro2::TokenStream| {
        let name = format_ident!("{}", m.name);
        let args = (0..m.args).map(|_| if matches!(m.name, "powi" | "pow") { quote!(2) } else { x.clone() });
        quote!(let _ = #x.#name(#(#args),*);)
    };
    let floats = METHODS.iter().filter(|m| m.elems != Elems::Int).map(|m| call(m, quote!(x)));
    let ints = METHODS.iter().filter(|m| m.elems != Elems::Float).map(|m| call(m, quote!(n)));
    let math = METHODS.iter().filter(|m| m.math).map(|m| {
        let (f, slice) = (format_ident!("{}", m.name), format_ident!("{}_slice", m.name));
        let args = (0..m.args).map(|_| quote!(x));
        let slices = (0..m.args).map(|_| quote!(&[x]));
        quote! {
            let _ = ::loopfuse::math::#f(x #(, #args)*);
            ::loopfuse::math::#slice(&[x] #(, #slices)*, &mut [x]);
        }
    });
    quote! {
        /// Every float method of the kernel vocabulary, on `T: Float`.
        pub fn float_methods<T: ::loopfuse::Float>(x: T) { #(#floats)* }
        /// Every integer method of the kernel vocabulary.
        pub fn int_methods(n: i64) { #(#ints)* }
        /// Every math function of the vocabulary and its slice helper.
        pub fn math_functions<T: ::loopfuse::Float>(x: T) { #(#math)* }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The methods as the docs list them: `abs sqrt ... to_radians`.
    pub fn doc_list() -> String {
        METHODS.iter().filter(|m| m.listed).map(|m| m.name).collect::<Vec<_>>().join(" ")
    }

    /// The reductions as the docs list them: `sum prod ... dot len`.
    pub fn doc_reductions() -> String {
        reduction_names().collect::<Vec<_>>().join(" ")
    }

    /// The scans as the docs list them: `cumsum cumprod cummax cummin`.
    pub fn doc_scans() -> String {
        SCANS.iter().map(|(n, _)| *n).collect::<Vec<_>>().join(" ")
    }

    /// `text` with the markdown line breaks and `//!` prefixes of the crate docs removed.
    fn flat(text: &str) -> String {
        text.lines().map(|l| l.trim_start().trim_start_matches("//!").trim()).collect::<Vec<_>>().join(" ")
    }

    /// `file` (its text `text`) lists exactly the table's methods and reductions.
    fn assert_lists(file: &str, text: &str) {
        let text = flat(text);
        assert!(
            text.contains(&format!("`{}`", doc_list())),
            "{file}'s method list differs from vocab.rs:\n{}",
            doc_list()
        );
        assert!(text.contains(&format!("`{}`", doc_reductions())), "{file}'s reduction list differs from vocab.rs");
        assert!(text.contains(&format!("`{}`", doc_scans())), "{file}'s scan list differs from vocab.rs");
    }

    #[test]
    fn readme_lists_every_method_and_reduction() {
        assert_lists("README.md", include_str!("../../README.md"));
    }

    #[test]
    fn crate_docs_list_every_method_and_reduction() {
        assert_lists("src/lib.rs", include_str!("../../src/lib.rs"));
    }

    #[test]
    fn names_are_unique_and_flags_consistent() {
        for (i, a) in METHODS.iter().enumerate() {
            assert!(METHODS[i + 1..].iter().all(|b| b.name != a.name), "duplicate {}", a.name);
            assert!(!a.staged || (a.math && a.args == 0), "{}: staged calls are unary math", a.name);
            assert!(!a.math || a.elems == Elems::Float, "{}", a.name);
        }
    }
}
