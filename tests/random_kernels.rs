//! Random kernels, in the spirit of Csmith: `random_kernels/gen.rs` writes random
//! `#[kernel]`s from the kernel language's grammar together with their scalar readings
//! (SPEC §1, the meaning rule) into a crate under `target/kernelgen/`, builds it in release
//! mode with overflow checks, and runs every kernel on random inputs at every CPU level
//! (`loopfuse::with_target` over `loopfuse::supported_targets()`), comparing with the
//! reading and the levels with each other (see `gen.rs` for what "equal" means).
//!
//! Inputs: lengths 0, 1, 2, 31, 32, 33, 2047, 2049, 4097; two "exact" data sets (halves in
//! -8..=8 with NaN, ±inf, ±0: any summation order gives the same bits) and one general set
//! (magnitudes 2^-20..2^20, subnormals, extremes, NaN, ±inf, -0.0, random bits); `ArrayView1`
//! parameters are strided (`s![..;2]`) or reversed (`s![..;-1]`) views.
//!
//! The grammar (`gen.rs`): parameters `x, y: &[f64]`, `w: ArrayView1<f64>`, `a: f64`,
//! outputs `o, p: &mut [f64]`; array, scalar and mask `let`s, `let mut` and shadowing (of
//! lets and parameters); `+= -= *= /=` on array lets and outputs, `o[..] = e`, outputs read
//! before and after they are written; `+ - * / %`, unary `-`, scalar broadcast on either
//! side, `abs sqrt floor ceil round trunc fract signum recip exp ln sin min max copysign hypot
//! mul_add powi`, `as f32 as f64`, `as i32 as f64`; masks `< <= > >= == != & | ^ !`,
//! `is_nan is_finite`, selects; reductions `sum mean var std min max prod argmin argmax dot
//! len any all count` inside later expressions (`x - x.mean()`) and as results; tuple,
//! `Vec`, scalar, `usize`, `bool` and `()` results; explicit loops `for v in x`,
//! `for v in x.iter()`, `for &v in x.iter()`, `for (i, v) in x.iter().enumerate()`,
//! `for (u, v) in x.iter().zip(y)`, `for i in 0..x.len()`, stencils `for i in 1..x.len() - 1`
//! with `x[i - 1]`, `x[i + 1]` and `o[i - 1]`, `while j < x.len()`, with accumulators in
//! reduction form (`+=`, `-=`, `max`, `min`, `if c { acc += e }`, counters), running values
//! (`acc = acc * 0.5 + e`, `o[i] = acc` after `acc += e`), loop-local `let`s shadowing outer
//! names, `break`; local outputs `let mut out = vec![init; x.len()]` written by loops and
//! returned; `#[kernel(strict)]`; scans `cumsum cumprod cummax cummin` of array expressions
//! (read as NumPy's running values); reductions of 1-D slices of parameters
//! (`(&x[1..] - &x[..x.len() - 1]).sum()`, `x[1..x.len() - 1].max()`, `y[..y.len() - 1]`),
//! scanned first or not.
//!
//! N-d kernels (`random_kernels/nd.rs`, [`gen::Grammar::nd`], one kernel in
//! [`gen::Grammar::nd_every`]): `x, y: ArrayView2<f64>` of shape `(n, m)` (`x` also
//! `ArrayViewD<f64>` or `&Array2<f64>`), `w: ArrayView1<f64>` of `m` elements or one,
//! `z: ArrayView3<f64>` of shape `(2, n, m)`, `a: f64`, an output `o` (`ArrayViewMut2<f64>`
//! or `&mut Array2<f64>`, `o += e`, `o[..] = e`); the expression grammar above on N-d
//! operands under NumPy broadcasting, whole reductions, axis reductions (`sum prod mean var
//! std min max argmin argmax count any all` `_axis`, `ddof`) reused as they are or through
//! `insert_axis`, `a.dot(&v)`, the views `insert_axis` and `t()` of parameters and computed
//! values, values of rank 0 to 3, array `let mut` with `+= -= *= /=`; results `Array1..3`,
//! `ArrayD`, scalars, tuples, `()` and `Result`; `strict`. Each runs on 14 shapes (8 square
//! ones `n == m` for kernels that mix `x` with `x.t()`: n, m in 0, 1, 2, 3, 17, 31, 33, 64,
//! 200, 20000; a shape whose largest value would pass 2^21 elements is skipped), the three
//! data sets (data set 1 with a one-element `w`), every input in six layouts (C, F,
//! transposed copy, `[1..;2, 1..;2]` of a larger array, axis 0 reversed, both reversed; `z`
//! in C, F, permuted, stepped and reversed) and once as stride-0 broadcasts, at every CPU
//! level, and must equal its reading bit for bit on any data: the reading's reductions are
//! the 1-D `#[kernel]` reductions over each lane or the C-order sequence (the N-d order
//! contract), the in-order ones for `strict`.
//!
//! [`gen::Grammar`] switches parts off; the two that found
//! compile errors (`mixed_outputs`, `literal_selects`, with minimized kernels in their
//! docs) are off by default.
//!
//! `cargo test --test random_kernels` runs [`CI_KERNELS`] kernels of seed [`CI_SEED`]
//! (56 1-D and 4 N-d kernels; about 2.5-2.8 min here on 2 shared cores: the build of the
//! generated crate, then 2196 cases in 0.3 s).
//! A long run is one command:
//!
//! ```text
//! LOOPFUSE_KERNELGEN=<seed>,<count> cargo test --test random_kernels -- --ignored --nocapture
//! ```
//!
//! (`<seed>,<count>,<k>`: one kernel in `k` is N-d, 1 for N-d kernels only)
//!
//! which builds crates of [`CHUNK`] kernels each (`target/kernelgen/<seed>-<first>/`, one
//! shared target directory) and reports every failing kernel with its source; rerun one with
//! `target/kernelgen/target/release/kernelgen_<seed>_<first> <kernel number>`.

#[path = "random_kernels/gen.rs"]
mod gen;

use std::path::{Path, PathBuf};
use std::process::Command;

const CI_SEED: u64 = 1;
const CI_KERNELS: usize = 60;
/// Kernels per generated crate.
const CHUNK: usize = 150;

/// The grammar the CI run uses: every part without a known open bug, with 4 N-d kernels
/// (about 10-15 s each to build, a 1-D kernel about 1 s).
fn ci_grammar() -> gen::Grammar {
    gen::Grammar { nd_every: 15, ..gen::Grammar::default() }
}

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Writes, builds and runs one crate; returns the failure report (empty if all pass).
fn run_chunk(seed: u64, first: usize, count: usize, g: gen::Grammar) -> String {
    let root = repo();
    let base = root.join("target").join("kernelgen");
    let name = format!("kernelgen_{seed}_{first}");
    let dir = base.join(format!("{seed}-{first}"));
    std::fs::create_dir_all(dir.join("src")).unwrap();
    let manifest = format!(
        r#"[package]
name = "{name}"
version = "0.0.0"
edition = "2021"
publish = false

[dependencies]
loopfuse = {{ path = {root:?} }}
ndarray = "0.16"

[profile.release]
overflow-checks = true
codegen-units = 16
incremental = false

[workspace]
"#
    );
    write_if_changed(&dir.join("Cargo.toml"), &manifest);
    write_if_changed(&dir.join("src/main.rs"), &gen::crate_main(seed, first, count, g));
    // The repository's lock file: the same dependency versions, offline.
    let lock = std::fs::read_to_string(root.join("Cargo.lock")).unwrap();
    if !dir.join("Cargo.lock").exists() {
        std::fs::write(dir.join("Cargo.lock"), lock).unwrap();
    }
    let target = base.join("target");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let t0 = std::time::Instant::now();
    let out = Command::new(&cargo)
        .args(["build", "--release", "--offline", "--quiet", "--manifest-path"])
        .arg(dir.join("Cargo.toml"))
        .env("CARGO_TARGET_DIR", &target)
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    if !out.status.success() {
        return format!("crate {} does not compile:\n{stderr}", dir.display());
    }
    let mut report = String::new();
    if stderr.contains("warning") {
        report.push_str(&format!("crate {} compiles with warnings:\n{stderr}\n", dir.display()));
    }
    let built = t0.elapsed();
    let t1 = std::time::Instant::now();
    let out = Command::new(target.join("release").join(&name)).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    eprintln!(
        "kernelgen {seed}-{first}: built in {:.0?}, ran in {:.1?}: {}",
        built,
        t1.elapsed(),
        stdout.lines().next().unwrap_or("(no output)")
    );
    if !out.status.success() {
        report.push_str(&format!("{stdout}\n{}", String::from_utf8_lossy(&out.stderr)));
    }
    report
}

fn write_if_changed(p: &Path, s: &str) {
    if std::fs::read_to_string(p).ok().as_deref() != Some(s) {
        std::fs::write(p, s).unwrap();
    }
}

fn run(seed: u64, count: usize, g: gen::Grammar) {
    let mut reports = Vec::new();
    let mut first = 0;
    while first < count {
        let n = CHUNK.min(count - first);
        let r = run_chunk(seed, first, n, g);
        if !r.is_empty() {
            reports.push(r);
        }
        first += n;
    }
    assert!(reports.is_empty(), "{}", reports.join("\n"));
}

#[test]
fn random_kernels_match_their_readings() {
    run(CI_SEED, CI_KERNELS, ci_grammar());
}

/// `LOOPFUSE_KERNELGEN=<seed>,<count>`: a long run (see the module doc).
#[test]
#[ignore]
fn random_kernels_long_run() {
    let v = std::env::var("LOOPFUSE_KERNELGEN").unwrap_or_else(|_| "2,1000".into());
    let mut it = v.split(',').map(|s| s.trim().parse::<u64>().expect("LOOPFUSE_KERNELGEN=<seed>,<count>"));
    let (seed, count) = (it.next().unwrap(), it.next().unwrap_or(1000) as usize);
    let mut g = gen::Grammar::default();
    if let Some(every) = it.next() {
        g.nd_every = every.max(1) as usize;
    }
    run(seed, count, g);
}
