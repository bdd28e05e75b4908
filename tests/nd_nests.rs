//! Rectangular loop nests over N-d arrays (issue 14; `macros/src/lower/nest.rs`): stencils,
//! fixed indices, permuted indices, compound writes, accumulators, a 3-D nest.
//!
//! Each kernel is written once through `twin!`, which defines the `#[kernel]` and a plain
//! `fn` from the same tokens: the plain one, with ndarray's checked indexing, is the meaning
//! (SPEC §1). Every check runs at every supported CPU level, on every layout of the inputs
//! (`tests/common/nd.rs`: C, F, transposed, step-2, reversed, broadcast) and of the outputs
//! (C, F, transposed, step-2, reversed), on NaN, ±inf and -0.0 data, at shapes 0×n, 1×1, 3×3
//! (a stencil's interior empty or one cell), 17×33 and 256×256. Writes and `max` are
//! compared bit for bit; float sums, added in the fixed lane order, on data where every
//! order gives the same bits (small integers), and against the expression form on any data.
//! Out-of-range accesses panic before any write, naming the kernel, the access, the indices
//! and the shape, exactly where the checked loop panics.
#![allow(clippy::needless_range_loop)]

mod common;
#[path = "common/nd.rs"]
mod nd;

use common::*;
use loopfuse::{kernel, KernelError};
use nd::Layouts;
use ndarray::{s, Array2, Array3, ArrayView2, ArrayView3, ArrayViewMut2, ArrayViewMut3, Axis, ShapeBuilder};

twin! {
    #[kernel]
    fn laplacian(u: ArrayView2<f64>, mut out: ArrayViewMut2<f64>) {
        for i in 1..u.nrows() - 1 {
            for j in 1..u.ncols() - 1 {
                out[[i, j]] = u[[i - 1, j]] + u[[i + 1, j]] + u[[i, j - 1]] + u[[i, j + 1]] - 4.0 * u[[i, j]];
            }
        }
    }

    #[kernel]
    fn blur3(u: ArrayView2<f64>, mut out: ArrayViewMut2<f64>) {
        for i in 1..u.nrows() - 1 {
            for j in 1..u.ncols() - 1 {
                let s = u[[i - 1, j - 1]] + u[[i - 1, j]] + u[[i - 1, j + 1]]
                    + u[[i, j - 1]] + u[[i, j]] + u[[i, j + 1]]
                    + u[[i + 1, j - 1]] + u[[i + 1, j]] + u[[i + 1, j + 1]];
                out[[i, j]] = s / 9.0;
            }
        }
    }

    // A fixed index (`w[[0, j]]`: one row, broadcast along `i`) and a scalar parameter.
    #[kernel]
    fn scale_by_row0(u: ArrayView2<f64>, w: ArrayView2<f64>, a: f64, mut out: ArrayViewMut2<f64>) {
        for i in 0..u.nrows() {
            for j in 0..u.ncols() {
                out[[i, j]] = u[[i, j]] * w[[0, j]] + a;
            }
        }
    }

    // Indices permuted: the transpose, written through loops.
    #[kernel]
    fn transpose_into(u: ArrayView2<f64>, mut out: ArrayViewMut2<f64>) {
        for i in 0..u.ncols() {
            for j in 0..u.nrows() {
                out[[i, j]] = u[[j, i]];
            }
        }
    }

    // Compound writes read the output's current element.
    #[kernel]
    fn add_twice(u: ArrayView2<f64>, mut out: ArrayViewMut2<f64>) {
        for i in 0..u.nrows() {
            for j in 0..u.ncols() {
                out[[i, j]] += 2.0 * u[[i, j]];
                out[[i, j]] *= 0.5;
            }
        }
    }

    // Accumulators in reduction form: a sum of differences, a maximum, a masked sum.
    #[kernel]
    fn stats(u: ArrayView2<f64>) -> [(f64, f64, f64)] {
        let mut tv = 0.0;
        let mut hi = f64::NEG_INFINITY;
        let mut pos = 0.0;
        for i in 0..u.nrows() {
            for j in 0..u.ncols() - 1 {
                tv += (u[[i, j + 1]] - u[[i, j]]).abs();
                hi = hi.max(u[[i, j]]);
                if u[[i, j]] > 0.0 {
                    pos += u[[i, j]];
                }
            }
        }
        (tv, hi, pos)
    }

    // Three loops, the innermost with offsets.
    #[kernel]
    fn diff3(z: ArrayView3<f64>, mut out: ArrayViewMut3<f64>) {
        for a in 0..z.len_of(Axis(0)) {
            for b in 0..z.len_of(Axis(1)) {
                for c in 1..z.len_of(Axis(2)) - 1 {
                    out[[a, b, c]] = z[[a, b, c + 1]] - z[[a, b, c - 1]];
                }
            }
        }
    }

    // A read one row past the end: the checked loop panics, and so must the kernel.
    #[kernel]
    fn shift_down(u: ArrayView2<f64>, mut out: ArrayViewMut2<f64>) {
        for i in 0..u.nrows() {
            for j in 0..u.ncols() {
                out[[i, j]] = u[[i + 1, j]];
            }
        }
    }
}

#[kernel]
fn shift_down_checked(u: ArrayView2<f64>, out: ArrayViewMut2<f64>) -> Result<(), KernelError> {
    for i in 0..u.nrows() {
        for j in 0..u.ncols() {
            out[[i, j]] = u[[i + 1, j]];
        }
    }
    Ok(())
}

/// The expression form of `stats`'s sum over the same windows, with the same order.
#[kernel]
fn tv_expr(right: ArrayView2<f64>, left: ArrayView2<f64>) -> f64 {
    (&right - &left).abs().sum()
}

const SHAPES: &[(usize, usize)] = &[(0, 5), (1, 1), (3, 3), (2, 7), (17, 33), (256, 256)];

/// Data with NaN, ±inf, -0.0 (`specials`), or small integers (any order sums them exactly).
fn data(n: usize, m: usize, seed: u64, ints: bool) -> Array2<f64> {
    let mut g = Rng::new(seed ^ ((n as u64) << 20) ^ m as u64);
    let specials = [f64::NAN, f64::INFINITY, f64::NEG_INFINITY, -0.0, 0.0, 1e300, -1e-300];
    Array2::from_shape_fn((n, m), |_| {
        let r = g.next_u64();
        if ints {
            ((r >> 20) % 17) as f64 - 8.0
        } else if r.is_multiple_of(11) {
            specials[(r >> 8) as usize % specials.len()]
        } else {
            (r >> 11) as f64 / (1u64 << 53) as f64 * 8.0 - 4.0
        }
    })
}

fn same(a: f64, b: f64) -> bool {
    a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan())
}

fn assert_same<D: ndarray::Dimension>(what: &str, got: &ndarray::Array<f64, D>, want: &ndarray::Array<f64, D>) {
    assert_eq!(got.shape(), want.shape(), "{what}");
    for ((i, &g), &w) in got.indexed_iter().zip(want.iter()) {
        assert!(same(g, w), "{what}: at {i:?}: want {w:?} got {g:?}");
    }
}

/// Calls `write` on every layout of an output of shape (n, m) filled with `init`, and returns
/// what each left, in C order.
fn each_output_layout(
    init: &Array2<f64>,
    mut write: impl FnMut(ArrayViewMut2<f64>),
) -> Vec<(&'static str, Array2<f64>)> {
    let (n, m) = init.dim();
    let mut out = Vec::new();
    let mut c = init.clone();
    write(c.view_mut());
    out.push(("C", c));
    let mut f = Array2::<f64>::zeros((n, m).f());
    f.assign(init);
    write(f.view_mut());
    out.push(("F", f.as_standard_layout().into_owned()));
    let mut t = init.t().to_owned();
    write(t.view_mut().reversed_axes());
    out.push(("transposed", t.t().to_owned()));
    let mut big = Array2::<f64>::from_elem((2 * n + 1, 2 * m + 1), 7.0);
    big.slice_mut(s![1..;2, 1..;2]).assign(init);
    write(big.slice_mut(s![1..;2, 1..;2]));
    out.push(("step2", big.slice(s![1..;2, 1..;2]).to_owned()));
    let mut r = init.slice(s![..;-1, ..]).to_owned();
    write(r.slice_mut(s![..;-1, ..]));
    out.push(("reversed", r.slice(s![..;-1, ..]).to_owned()));
    out
}

/// A kernel writing `out` from `u`, against its plain twin, on every layout of both and at
/// every level. Shapes where the plain loop panics (an overflowing `n - 1` on 0 rows) must
/// panic in the kernel too.
fn check_write(
    name: &str,
    ushape: (usize, usize),
    oshape: (usize, usize),
    k: impl Fn(ArrayView2<f64>, ArrayViewMut2<f64>),
    r: impl Fn(ArrayView2<f64>, ArrayViewMut2<f64>),
) {
    for ints in [false, true] {
        let u = data(ushape.0, ushape.1, 1, ints);
        let init = data(oshape.0, oshape.1, 2, ints);
        let mut want = init.clone();
        let plain = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| r(u.view(), want.view_mut())));
        let layouts = Layouts::new(&u);
        for (ul, uv) in layouts.views() {
            for (t, runs) in at_every_level(|_| {
                each_output_layout(&init, |o| {
                    let got = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| k(uv, o)));
                    assert_eq!(
                        got.is_ok(),
                        plain.is_ok(),
                        "{name} {ushape:?}: the kernel and the plain loop disagree on panicking"
                    );
                })
            }) {
                if plain.is_err() {
                    continue;
                }
                for (ol, got) in runs {
                    assert_same(&format!("{name} {ushape:?} u {ul} out {ol} at {t:?}"), &got, &want);
                }
            }
        }
    }
}

#[test]
fn laplacian_vs_plain() {
    for &(n, m) in SHAPES {
        check_write("laplacian", (n, m), (n, m), laplacian::k, laplacian::r);
    }
}

#[test]
fn blur3_vs_plain() {
    for &(n, m) in SHAPES {
        check_write("blur3", (n, m), (n, m), blur3::k, blur3::r);
    }
}

#[test]
fn fixed_index_vs_plain() {
    for &(n, m) in SHAPES {
        let w = data(2, m, 9, false);
        for wv in [w.view(), w.slice(s![..;-1, ..])] {
            check_write(
                "scale_by_row0",
                (n, m),
                (n, m),
                |u, o| scale_by_row0::k(u, wv, -0.5, o),
                |u, o| scale_by_row0::r(u, wv, -0.5, o),
            );
        }
    }
}

#[test]
fn transpose_vs_plain() {
    for &(n, m) in SHAPES {
        check_write("transpose_into", (n, m), (m, n), transpose_into::k, transpose_into::r);
    }
}

#[test]
fn compound_write_vs_plain() {
    for &(n, m) in SHAPES {
        check_write("add_twice", (n, m), (n, m), add_twice::k, add_twice::r);
    }
}

#[test]
fn accumulators_vs_plain() {
    for &(n, m) in SHAPES.iter().filter(|s| s.1 > 0) {
        // Small integers: every order of the sums gives the plain loop's bits.
        let u = data(n, m, 3, true);
        let want = stats::r(u.view());
        for (l, v) in Layouts::new(&u).views() {
            for (t, got) in at_every_level(|_| stats::k(v)) {
                let what = format!("stats {:?} {l} at {t:?}", (n, m));
                assert!(same(got.0, want.0) && same(got.2, want.2), "{what}: want {want:?} got {got:?}");
                assert!(got.1 == want.1 || same(got.1, want.1), "{what}: want {want:?} got {got:?}");
            }
        }
        // Any data: the nest's sum is the expression form's, bit for bit; the maximum is the
        // plain loop's (`f64::max` skips NaN either way).
        let u = data(n, m, 4, false);
        let want = stats::r(u.view());
        for (l, v) in Layouts::new(&u).views() {
            for (t, got) in at_every_level(|_| (stats::k(v), tv_expr(v.slice(s![.., 1..]), v.slice(s![.., ..m - 1])))) {
                let what = format!("stats {:?} {l} at {t:?}", (n, m));
                assert!(same(got.0 .0, got.1), "{what}: nest {:?} expression {:?}", got.0 .0, got.1);
                assert!(got.0 .1 == want.1 || same(got.0 .1, want.1), "{what}: want {want:?} got {:?}", got.0);
            }
        }
    }
}

#[test]
fn three_d_vs_plain() {
    for &(a, b, c) in &[(0, 3, 4), (1, 1, 1), (2, 3, 3), (3, 5, 37), (2, 17, 70)] {
        let mut g = Rng::new(5);
        let z = Array3::from_shape_fn((a, b, c), |_| g.range(-4.0, 4.0));
        let mut want = Array3::<f64>::zeros((a, b, c));
        let plain = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| diff3::r(z.view(), want.view_mut())));
        for (l, v) in Layouts::new(&z).views() {
            for (t, got) in at_every_level(|_| {
                let mut got = Array3::<f64>::zeros((a, b, c));
                let ok = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| diff3::k(v, got.view_mut()))).is_ok();
                (ok, got)
            }) {
                assert_eq!(got.0, plain.is_ok(), "diff3 {:?} {l}", (a, b, c));
                if got.0 {
                    assert_same(&format!("diff3 {:?} {l} at {t:?}", (a, b, c)), &got.1, &want);
                }
            }
        }
    }
}

#[test]
fn out_of_range_read_panics_before_any_write() {
    let u = data(3, 4, 6, false);
    let mut out = Array2::<f64>::from_elem((3, 4), 1.0);
    let msg = panic_message(|| shift_down::k(u.view(), out.view_mut()));
    assert_eq!(msg, "kernel `k`: index out of bounds: `u[[i + 1, j]]` accesses indices 1..=3 of axis 0, of an array of shape [3, 4]");
    assert!(out.iter().all(|&v| v == 1.0), "nothing written");
    // The plain loop panics too (ndarray's message).
    assert!(std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| shift_down::r(u.view(), out.view_mut()))).is_err());
    // An empty nest reads nothing, wherever its accesses would point.
    let e = Array2::<f64>::zeros((0, 4));
    shift_down::k(e.view(), Array2::<f64>::zeros((0, 4)).view_mut());
    let err = shift_down_checked(u.view(), out.view_mut());
    assert_eq!(
        err,
        Err(KernelError::Window {
            kernel: "shift_down_checked",
            text: "u[[i + 1, j]]",
            axis: 0,
            first: 1,
            last: 3,
            shape: "[3, 4]".into()
        })
    );
}

#[test]
fn stencil_edges() {
    // laplacian on 3x3 reads rows 0..=2 and columns 0..=2: the exact edges, in range.
    let u = data(3, 3, 7, false);
    let mut got = Array2::<f64>::zeros((3, 3));
    let mut want = got.clone();
    laplacian::k(u.view(), got.view_mut());
    laplacian::r(u.view(), want.view_mut());
    assert_same("laplacian 3x3", &got, &want);
    // An output one column short: the write `out[[i, j]]` reaches column 1 of 1.
    let mut short = Array2::<f64>::zeros((3, 1));
    let msg = panic_message(|| laplacian::k(u.view(), short.view_mut()));
    assert_eq!(
        msg,
        "kernel `k`: index out of bounds: `out[[i, j]]` accesses index 1 of axis 1, of an array of shape [3, 1]"
    );
    assert!(
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| laplacian::r(u.view(), short.view_mut()))).is_err()
    );
}
