//! The N-d drivers against the 1-D one: whole reductions against `crate::pass` over the
//! flattening, axis reductions against it over every lane, for many shapes and layouts.

use super::axis::{drive, drive_strict, Strategy};
use super::*;
use crate::reduce::*;
use crate::stage::stage;
use ndarray::{ArrayD, ArrayViewD, Axis, IxDyn, ShapeBuilder, Slice};

/// Values of both signs, a few exact ties (for argmax), no NaN.
fn data(n: usize, seed: u64) -> Vec<f64> {
    let mut s = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..n)
        .map(|_| {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            let v = (s >> 11) as f64 / (1u64 << 53) as f64 * 8.0 - 4.0;
            if s.is_multiple_of(17) {
                3.5
            } else {
                v
            }
        })
        .collect()
}

const SHAPES: &[&[usize]] = &[
    &[1, 1],
    &[1, 33],
    &[17, 31],
    &[33, 17],
    &[3, 0],
    &[0, 5],
    &[2, 3, 40],
    &[100, 100],
    &[5000, 3],
    &[3, 2100],
    &[9000, 2],
    &[1100, 3],
    &[2, 700, 5],
    &[4, 5, 6, 7],
    &[7],
    &[],
];

/// The layouts of one logical array: the same values, stored differently.
const LAYOUTS: &[&str] = &["c", "f", "transposed", "rotated", "step2", "negative", "broadcast"];

/// Owned storage and a way to view it as the logical array of `dims`.
struct Case {
    store: ArrayD<f64>,
    layout: &'static str,
    dims: Vec<usize>,
}

impl Case {
    fn new(dims: &[usize], layout: &'static str, seed: u64) -> Case {
        let n: usize = dims.iter().product();
        let base = ArrayD::from_shape_vec(IxDyn(dims), data(n, seed)).unwrap();
        let store = match layout {
            "c" => base,
            "f" => {
                let mut f = ArrayD::zeros(IxDyn(dims).f());
                f.assign(&base);
                f
            }
            // The transpose stored in C order, to be viewed transposed back.
            "transposed" => {
                let rev: Vec<usize> = dims.iter().rev().copied().collect();
                ArrayD::from_shape_vec(IxDyn(&rev), base.t().iter().copied().collect()).unwrap()
            }
            // Axes stored in the order 1, 2, .., 0: views with the axes rotated back.
            "rotated" => {
                let r = dims.len();
                let perm: Vec<usize> = (0..r).map(|k| (k + 1) % r).collect();
                let p = base.view().permuted_axes(IxDyn(&perm));
                let rot: Vec<usize> = p.shape().to_vec();
                ArrayD::from_shape_vec(IxDyn(&rot), p.iter().copied().collect()).unwrap()
            }
            "step2" => {
                let big: Vec<usize> = dims.iter().map(|d| 2 * d).collect();
                let mut b = ArrayD::from_elem(IxDyn(&big), f64::NAN);
                b.slice_each_axis_mut(|_| Slice::new(0, None, 2)).assign(&base);
                b
            }
            "negative" => {
                let r = base.slice_each_axis(|_| Slice::new(0, None, -1));
                ArrayD::from_shape_vec(IxDyn(dims), r.iter().copied().collect()).unwrap()
            }
            // Constant along the first axis: the last row, stretched.
            "broadcast" => {
                let mut one = dims.to_vec();
                if let Some(d) = one.first_mut() {
                    *d = 1;
                }
                let m: usize = one.iter().product();
                ArrayD::from_shape_vec(IxDyn(&one), data(m, seed)).unwrap()
            }
            _ => unreachable!(),
        };
        Case { store, layout, dims: dims.to_vec() }
    }

    fn view(&self) -> ArrayViewD<'_, f64> {
        match self.layout {
            "c" | "f" => self.store.view(),
            "transposed" => self.store.t(),
            "rotated" => {
                let r = self.dims.len();
                let back: Vec<usize> = (0..r).map(|k| (k + r - 1) % r.max(1)).collect();
                self.store.view().permuted_axes(IxDyn(&back))
            }
            "step2" => self.store.slice_each_axis(|_| Slice::new(0, None, 2)),
            "negative" => self.store.slice_each_axis(|_| Slice::new(0, None, -1)),
            "broadcast" => self.store.broadcast(IxDyn(&self.dims)).unwrap(),
            _ => unreachable!(),
        }
    }
}

fn nd<'a>(v: &ArrayViewD<'a, f64>) -> NdView<'a, f64> {
    NdView::from(v.clone())
}

type Six = (f64, f64, f64, f64, usize, usize);

/// The bits of each result; NaN payloads are not part of the contract (`0.0 / 0.0` folded at
/// compile time and computed at run time differ in sign).
fn bits(r: Six) -> (u64, u64, u64, u64, usize, usize) {
    let b = |x: f64| if x.is_nan() { f64::NAN.to_bits() } else { x.to_bits() };
    (b(r.0), b(r.1), b(r.2), b(r.3), r.4, r.5)
}

type SixReducers = (Sum<f64>, Mean<f64>, Min<f64>, Max<f64>, ArgMax<f64>, Count);

fn six() -> SixReducers {
    (Sum::new(), Mean::new(), Min::new(), Max::new(), ArgMax::new(), Count)
}

/// The reference: the 1-D driver over a slice.
fn flat6(x: &[f64]) -> Six {
    crate::pass::pass(x.len(), (x,), six(), (), |(x,)| ((x, x, x, x, x, x > 0.5), ()))
}

fn flat_strict6(x: &[f64]) -> Six {
    crate::pass::pass_strict(x.len(), (x,), six(), (), |(x,)| ((x, x, x, x, x, x > 0.5), ()))
}

#[test]
fn whole_reductions_equal_the_flat_pass() {
    for dims in SHAPES {
        for layout in LAYOUTS {
            let case = Case::new(dims, layout, 1);
            let v = case.view();
            let flat: Vec<f64> = v.iter().copied().collect();
            let shape = Shape::new(dims);
            let x = nd(&v);
            let what = format!("{dims:?} {layout}");
            let got = pass(shape, (x,), six(), (), |(x,)| ((x, x, x, x, x, x > 0.5), ()));
            assert_eq!(bits(got), bits(flat6(&flat)), "{what}");
            let got = pass_strict(shape, (x,), six(), (), |(x,)| ((x, x, x, x, x, x > 0.5), ()));
            assert_eq!(bits(got), bits(flat_strict6(&flat)), "strict {what}");
            // With a stage and a sink, in both orders of the result.
            let want = crate::pass::pass_staged(
                flat.len(),
                (&flat[..],),
                stage(crate::math::exp_slice),
                (Sum::new(), ArgMax::new()),
                (),
                |(x,)| x * 0.5,
                |(x,), e| ((e, x), ()),
            );
            for f_order in [false, true] {
                let mut out = NdOut::new(shape, f_order);
                let got = pass_staged(
                    shape,
                    (x,),
                    stage(crate::math::exp_slice),
                    (Sum::new(), ArgMax::new()),
                    (&mut out,),
                    |(x,)| x * 0.5,
                    |(x,), e| ((e, x), (x * 2.0 + 1.0,)),
                );
                assert_eq!((got.0.to_bits(), got.1), (want.0.to_bits(), want.1), "staged {what}");
                let out: ArrayD<f64> = out.into_array();
                assert_eq!(out, v.mapv(|x| x * 2.0 + 1.0), "sink {what}");
                assert!(if f_order { out.t().is_standard_layout() } else { out.is_standard_layout() });
            }
        }
    }
}

#[test]
fn elementwise_any_layout_mix() {
    for dims in SHAPES {
        for (la, lb) in [("c", "f"), ("f", "f"), ("transposed", "broadcast"), ("negative", "step2"), ("broadcast", "c")]
        {
            let (a, b) = (Case::new(dims, la, 2), Case::new(dims, lb, 3));
            let (va, vb) = (a.view(), b.view());
            let shape = Shape::new(dims);
            let f_order = prefers_f(&[nd(&va).erase(), nd(&vb).erase()]);
            let (mut y, mut z) = (NdOut::new(shape, f_order), NdOut::new(shape, !f_order));
            pass(shape, (nd(&va), nd(&vb)), (), (&mut y, &mut z), |(a, b)| ((), (a * b, a - b)));
            // A later pass reads an earlier result.
            let mut w = NdOut::new(shape, false);
            pass(shape, (y.view(), z.view()), (), (&mut w,), |(y, z)| ((), (y + z,)));
            let (y, w): (ArrayD<f64>, ArrayD<f64>) = (y.into_array(), w.into_array());
            assert_eq!(y, &va * &vb, "{dims:?} {la} {lb}");
            assert_eq!(w, &va * &vb + (&va - &vb), "{dims:?} {la} {lb}");
        }
    }
    // F inputs give an F result whose loop is unit-stride.
    let a = Case::new(&[3, 4], "f", 1);
    assert!(prefers_f(&[nd(&a.view()).erase()]));
}

#[test]
fn nested_sources_sinks_and_reducers() {
    let case = Case::new(&[17, 31], "transposed", 4);
    let v = case.view();
    let x = nd(&v);
    let shape = x.shape();
    let flat: Vec<f64> = v.iter().copied().collect();
    let mut outs: Vec<NdOut<f64>> = (0..13).map(|_| NdOut::new(shape, true)).collect();
    let [o0, o1, o2, o3, o4, o5, o6, o7, o8, o9, o10, o11, o12] = &mut outs[..] else { unreachable!() };
    let ((s0, s1, s2, s3, s4, s5, s6, s7, s8, s9, s10, s11), (s12,)) = pass(
        shape,
        ((x, x, x, x, x, x, x, x, x, x, x, x), (x,)),
        (
            (
                Sum::new(),
                Sum::new(),
                Sum::new(),
                Sum::new(),
                Sum::new(),
                Sum::new(),
                Sum::new(),
                Sum::new(),
                Sum::new(),
                Sum::new(),
                Sum::new(),
                Sum::new(),
            ),
            (Mean::new(),),
        ),
        ((o0, o1, o2, o3, o4, o5, o6, o7, o8, o9, o10, o11), (o12,)),
        |((a, b, c, d, e, f, g, h, i, j, k, l), (m,))| {
            (
                ((a, b, c, d, e, f, g, h, i, j, k, l), (m,)),
                (
                    (
                        a * 0.0,
                        b * 1.0,
                        c * 2.0,
                        d * 3.0,
                        e * 4.0,
                        f * 5.0,
                        g * 6.0,
                        h * 7.0,
                        i * 8.0,
                        j * 9.0,
                        k * 10.0,
                        l * 11.0,
                    ),
                    (m * 12.0,),
                ),
            )
        },
    );
    let want = flat6(&flat);
    for s in [s0, s1, s2, s3, s4, s5, s6, s7, s8, s9, s10, s11] {
        assert_eq!(s.to_bits(), want.0.to_bits());
    }
    assert_eq!(s12.to_bits(), want.1.to_bits());
    for (k, o) in outs.into_iter().enumerate() {
        let o: ArrayD<f64> = o.into_array();
        assert_eq!(o, v.mapv(|x| x * k as f64));
    }
}

/// The reference of an axis reduction: the 1-D driver over every lane, in C order of the
/// reduced shape.
fn lanes_ref(v: &ArrayViewD<'_, f64>, axis: usize, f: impl Fn(&[f64]) -> Six) -> Vec<Six> {
    v.lanes(Axis(axis)).into_iter().map(|l| f(&l.iter().copied().collect::<Vec<_>>())).collect()
}

type Outs6 = (NdOut<f64>, NdOut<f64>, NdOut<f64>, NdOut<f64>, NdOut<usize>, NdOut<usize>);

fn outs6(shape: Shape, f: bool) -> Outs6 {
    (
        NdOut::new(shape, f),
        NdOut::new(shape, f),
        NdOut::new(shape, f),
        NdOut::new(shape, f),
        NdOut::new(shape, f),
        NdOut::new(shape, f),
    )
}

fn read6(o: Outs6) -> Vec<Six> {
    let a: [ArrayD<f64>; 4] = [o.0.into_array(), o.1.into_array(), o.2.into_array(), o.3.into_array()];
    let (m, c): (ArrayD<usize>, ArrayD<usize>) = (o.4.into_array(), o.5.into_array());
    let it = a[0].iter().zip(a[1].iter()).zip(a[2].iter()).zip(a[3].iter()).zip(m.iter()).zip(c.iter());
    it.map(|(((((&s, &mean), &mn), &mx), &am), &ct)| (s, mean, mn, mx, am, ct)).collect()
}

fn strategies(shape: Shape, axis: usize) -> Vec<Strategy> {
    let mut v = vec![Strategy::Rows, Strategy::Short];
    for j in (0..shape.rank()).filter(|&j| j != axis) {
        for tile in [3, 8, 64] {
            v.push(Strategy::Tiles { j, tile });
        }
    }
    v
}

#[test]
fn axis_reductions_equal_the_flat_pass_on_every_lane() {
    for dims in SHAPES.iter().filter(|d| !d.is_empty()) {
        for layout in LAYOUTS {
            let case = Case::new(dims, layout, 5);
            let v = case.view();
            let x = nd(&v);
            let shape = x.shape();
            for axis in 0..shape.rank() {
                let want: Vec<_> = lanes_ref(&v, axis, flat6).into_iter().map(bits).collect();
                let want_strict: Vec<_> = lanes_ref(&v, axis, flat_strict6).into_iter().map(bits).collect();
                let out_shape = shape.remove_axis(axis);
                let what = format!("{dims:?} {layout} axis {axis}");
                for f in [false, true] {
                    let mut o = outs6(out_shape, f);
                    axis_pass(
                        shape,
                        axis,
                        (x,),
                        six(),
                        (&mut o.0, &mut o.1, &mut o.2, &mut o.3, &mut o.4, &mut o.5),
                        |(x,)| ((x, x, x, x, x, x > 0.5), ()),
                    );
                    let got: Vec<_> = read6(o).into_iter().map(bits).collect();
                    assert_eq!(got, want, "{what}");
                }
                for strategy in strategies(shape, axis) {
                    let mut o = outs6(out_shape, false);
                    let outs = (&mut o.0, &mut o.1, &mut o.2, &mut o.3, &mut o.4, &mut o.5);
                    drive(
                        shape,
                        axis,
                        strategy,
                        (x,),
                        (),
                        six(),
                        outs,
                        |_| (),
                        |(x,), ()| ((x, x, x, x, x, x > 0.5), ()),
                    );
                    let got: Vec<_> = read6(o).into_iter().map(bits).collect();
                    assert_eq!(got, want, "{what} {strategy:?}");
                    let mut o = outs6(out_shape, true);
                    let outs = (&mut o.0, &mut o.1, &mut o.2, &mut o.3, &mut o.4, &mut o.5);
                    drive_strict(shape, axis, strategy, (x,), six(), outs, |(x,)| ((x, x, x, x, x, x > 0.5), ()));
                    let got: Vec<_> = read6(o).into_iter().map(bits).collect();
                    assert_eq!(got, want_strict, "strict {what} {strategy:?}");
                }
            }
        }
    }
}

#[test]
fn staged_axis_reductions_and_var_axis() {
    for dims in [&[33, 17][..], &[3, 2100], &[2, 3, 40], &[3, 0], &[1, 1]] {
        for layout in ["c", "f", "negative", "broadcast"] {
            let case = Case::new(dims, layout, 6);
            let v = case.view();
            let x = nd(&v);
            let shape = x.shape();
            for axis in 0..shape.rank() {
                let out_shape = shape.remove_axis(axis);
                let what = format!("{dims:?} {layout} axis {axis}");
                // Reference: per lane, the 1-D staged pass, then mean, then VarAxis.
                let lanes: Vec<Vec<f64>> =
                    v.lanes(Axis(axis)).into_iter().map(|l| l.iter().copied().collect()).collect();
                let want: Vec<(u64, u64, u64)> = lanes
                    .iter()
                    .map(|l| {
                        let (e,) = crate::pass::pass_staged(
                            l.len(),
                            (&l[..],),
                            stage(crate::math::exp_slice),
                            (Sum::new(),),
                            (),
                            |(x,)| x,
                            |_, e| ((e,), ()),
                        );
                        let (m,) = crate::pass::pass(l.len(), (&l[..],), (Mean::new(),), (), |(x,)| ((x,), ()));
                        let (var, std) =
                            crate::pass::pass(l.len(), (&l[..],), (VarAxis::new(1.0), VarAxis::std(0.0)), (), |(x,)| {
                                (((x, m), (x, m)), ())
                            });
                        (e.to_bits(), var.to_bits(), std.to_bits())
                    })
                    .collect();
                for strategy in strategies(shape, axis) {
                    let mut e = NdOut::new(out_shape, false);
                    drive(
                        shape,
                        axis,
                        strategy,
                        (x,),
                        stage(crate::math::exp_slice),
                        (Sum::new(),),
                        (&mut e,),
                        |(x,)| x,
                        |_, e| ((e,), ()),
                    );
                    let mut m = NdOut::new(out_shape, true);
                    drive(shape, axis, strategy, (x,), (), (Mean::new(),), (&mut m,), |_| (), |(x,), ()| ((x,), ()));
                    let mean = m.view().insert_axis(axis).broadcast_to(shape);
                    let (mut var, mut std) = (NdOut::new(out_shape, false), NdOut::new(out_shape, true));
                    drive(
                        shape,
                        axis,
                        strategy,
                        (x, mean),
                        (),
                        (VarAxis::new(1.0), VarAxis::std(0.0)),
                        (&mut var, &mut std),
                        |_| (),
                        |(x, m), ()| (((x, m), (x, m)), ()),
                    );
                    let (e, var, std): (ArrayD<f64>, ArrayD<f64>, ArrayD<f64>) =
                        (e.into_array(), var.into_array(), std.into_array());
                    let got: Vec<_> = e
                        .iter()
                        .zip(var.iter())
                        .zip(std.iter())
                        .map(|((e, v), s)| (e.to_bits(), v.to_bits(), s.to_bits()))
                        .collect();
                    assert_eq!(got, want, "{what} {strategy:?}");
                }
            }
        }
    }
}

#[test]
fn var_axis_with_too_few_elements_is_inf_or_nan() {
    let x = [1.0, 2.0];
    let x = NdView::from_slice(&x, Shape::new(&[1, 2]));
    let mut v = NdOut::new(Shape::new(&[2]), false);
    let m = NdView::from_slice(&[1.0, 2.0], Shape::new(&[1, 2]));
    axis_pass(x.shape(), 0, (x, m), (VarAxis::new(1.0),), (&mut v,), |(x, m)| (((x, m),), ()));
    let v: ndarray::Array1<f64> = v.into_array();
    // 0 / 0.
    assert!(v.iter().all(|v| v.is_nan()));
}

#[test]
fn the_strategy_follows_the_strides() {
    let c = Case::new(&[100, 100], "c", 1);
    let f = Case::new(&[100, 100], "f", 1);
    let (c, f) = (c.view(), f.view());
    let s = Shape::new(&[100, 100]);
    assert_eq!(axis::choose(s, 1, &(nd(&c),), 64), Strategy::Short);
    assert_eq!(axis::choose(s, 0, &(nd(&c),), 64), Strategy::Tiles { j: 1, tile: 64 });
    assert_eq!(axis::choose(s, 0, &(nd(&f),), 64), Strategy::Short);
    assert_eq!(axis::choose(s, 1, &(nd(&f),), 64), Strategy::Tiles { j: 0, tile: 64 });
    assert_eq!((axis::tile(8), axis::tile(16), axis::tile(1 << 20)), (1024, 512, 8));
}

#[test]
#[should_panic(expected = "an input of shape [3, 4] in a pass over shape [4, 3]")]
fn a_wrong_shape_panics() {
    let x = [0.0; 12];
    let x = NdView::from_slice(&x, Shape::new(&[3, 4]));
    pass(Shape::new(&[4, 3]), (x,), (), (), |_| ((), ()));
}

#[test]
fn nested_axis_reducers_and_outs() {
    let case = Case::new(&[40, 33], "c", 7);
    let v = case.view();
    let x = nd(&v);
    let shape = x.shape();
    for axis in 0..2 {
        let out_shape = shape.remove_axis(axis);
        let mut o: Vec<NdOut<f64>> = (0..13).map(|_| NdOut::new(out_shape, axis == 0)).collect();
        let [o0, o1, o2, o3, o4, o5, o6, o7, o8, o9, o10, o11, o12] = &mut o[..] else { unreachable!() };
        let mut argmax = NdOut::new(out_shape, false);
        axis_pass(
            shape,
            axis,
            ((x,), (x,)),
            (
                (
                    Sum::new(),
                    Sum::new(),
                    Sum::new(),
                    Sum::new(),
                    Sum::new(),
                    Sum::new(),
                    Sum::new(),
                    Sum::new(),
                    Sum::new(),
                    Sum::new(),
                    Sum::new(),
                    Sum::new(),
                ),
                (Max::new(), ArgMax::new()),
            ),
            ((o0, o1, o2, o3, o4, o5, o6, o7, o8, o9, o10, o11), (o12, &mut argmax)),
            |((a,), (b,))| {
                (
                    (
                        (
                            a * 0.0,
                            a * 1.0,
                            a * 2.0,
                            a * 3.0,
                            a * 4.0,
                            a * 5.0,
                            a * 6.0,
                            a * 7.0,
                            a * 8.0,
                            a * 9.0,
                            a * 10.0,
                            a * 11.0,
                        ),
                        (b, b),
                    ),
                    (),
                )
            },
        );
        let lanes: Vec<Vec<f64>> = v.lanes(Axis(axis)).into_iter().map(|l| l.iter().copied().collect()).collect();
        for (k, o) in o.into_iter().enumerate() {
            let o: ArrayD<f64> = o.into_array();
            for (got, l) in o.iter().zip(&lanes) {
                let want = if k == 12 {
                    crate::pass::pass(l.len(), (&l[..],), (Max::new(),), (), |(x,)| ((x,), ())).0
                } else {
                    crate::pass::pass(l.len(), (&l[..],), (Sum::new(),), (), |(x,)| ((x * k as f64,), ())).0
                };
                assert_eq!(got.to_bits(), want.to_bits(), "axis {axis} reducer {k}");
            }
        }
        let argmax: ArrayD<usize> = argmax.into_array();
        for (got, l) in argmax.iter().zip(&lanes) {
            assert_eq!(*got, crate::pass::pass(l.len(), (&l[..],), (ArgMax::new(),), (), |(x,)| ((x,), ())).0);
        }
    }
}
