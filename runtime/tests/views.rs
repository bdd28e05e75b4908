//! Views (`loopfuse_runtime::view`): the edges of every unchecked index (len 0 and 1,
//! negative and zero strides, windows and splits at both ends), the pass over views against
//! the pass over slices bit for bit, and no allocation for a strided input.

use loopfuse_runtime::pass::{pass, pass_staged, pass_strict, Current};
use loopfuse_runtime::reduce::{ArgMax, Max, Sum};
use loopfuse_runtime::view::{View, ViewMut};
use loopfuse_runtime::{math, stage::stage, KernelInput, KernelOutput};
use ndarray::{s, Array1, ArrayView1};
use std::cell::Cell;

mod counting_alloc;
use counting_alloc::allocations;

fn data(n: usize) -> Vec<f64> {
    (0..n).map(|i| ((i * 7919) % 1013) as f64 * 0.37 - 150.0).collect()
}

#[test]
fn strided_input_does_not_allocate() {
    let x = Array1::from(data(10_000));
    let strided = x.slice(s![..;3]);
    let reversed = x.slice(s![..;-2]);
    let mut sums = (0.0f64, 0.0f64);
    let n = allocations(|| {
        let (a, b) = (strided.as_view(), reversed.as_view());
        let (s,) = pass(a.len(), (a,), (Sum::new(),), (), |(x,)| ((x,), ()));
        let (t,) = pass(b.len(), (b,), (Sum::new(),), (), |(x,)| ((x,), ()));
        sums = (s, t);
    });
    assert_eq!(n, 0);
    let a: Vec<f64> = strided.iter().copied().collect();
    let b: Vec<f64> = reversed.iter().copied().collect();
    assert_eq!(sums.0.to_bits(), pass(a.len(), (&a[..],), (Sum::new(),), (), |(x,)| ((x,), ())).0.to_bits());
    assert_eq!(sums.1.to_bits(), pass(b.len(), (&b[..],), (Sum::new(),), (), |(x,)| ((x,), ())).0.to_bits());
}

#[test]
fn strided_output_does_not_allocate_and_matches() {
    let x = data(5000);
    let mut y = Array1::from(data(15_000));
    let mut want = y.clone();
    for (w, x) in want.slice_mut(s![..;-3]).iter_mut().zip(&x) {
        *w += 2.0 * x;
    }
    let n = allocations(|| {
        let out = y.slice_mut(s![..;-3]).into_view_mut();
        let xr = &x;
        let xv = xr.as_view();
        assert_eq!(out.stride(), -3);
        pass(5000, (xv, Current(&out)), (), (&out,), |(x, y)| ((), (y + 2.0 * x,)));
    });
    assert_eq!(n, 0);
    assert_eq!(y, want);
}

/// Sum, max, argmax and an output over a view equal the same over a slice, for every length
/// around the lane group and block edges and every layout.
#[test]
fn views_equal_slices_bit_for_bit() {
    let base = Array1::from(data(3 * 4200 + 3));
    for n in [0, 1, 2, 31, 32, 33, 2047, 2048, 2049, 4200] {
        let layouts: Vec<ArrayView1<f64>> =
            vec![base.slice(s![..n]), base.slice(s![..3 * n;3]), base.slice(s![..n;-1]), base.slice(s![..3 * n;-3])];
        for v in layouts {
            let flat: Vec<f64> = v.iter().copied().collect();
            let mut o1 = vec![0.0; n];
            let mut o2 = vec![0.0; n];
            let want = {
                let cells = Cell::from_mut(&mut o1[..]).as_slice_of_cells();
                pass(n, (&flat[..],), (Sum::new(), Max::new(), ArgMax::new()), (cells,), |(x,)| ((x, x, x), (x * 3.0,)))
            };
            let got = {
                let out = (&mut o2).into_view_mut();
                pass(n, (v.as_view(),), (Sum::new(), Max::new(), ArgMax::new()), (&out,), |(x,)| {
                    ((x, x, x), (x * 3.0,))
                })
            };
            assert_eq!(want.0.to_bits(), got.0.to_bits(), "n = {n}, stride {}", v.strides()[0]);
            if n > 0 {
                assert_eq!(want.1.to_bits(), got.1.to_bits());
                assert_eq!(want.2, got.2);
            }
            assert_eq!(o1, o2);
            let s1 = pass_strict(n, (&flat[..],), (Sum::new(),), (), |(x,)| ((x,), ()));
            let s2 = pass_strict(n, (v.as_view(),), (Sum::new(),), (), |(x,)| ((x,), ()));
            assert_eq!(s1.0.to_bits(), s2.0.to_bits());
            let st = |src: View<f64>| {
                pass_staged(
                    n,
                    (src,),
                    (stage(math::exp_slice),),
                    (Sum::new(),),
                    (),
                    |(x,)| (x * 0.01,),
                    |_, (e,)| ((e,), ()),
                )
                .0
            };
            assert_eq!(st((&flat).as_view()).to_bits(), st(v.as_view()).to_bits());
        }
    }
}

#[test]
fn strided_output_view_of_ndarray() {
    let mut y = Array1::<f64>::zeros(10);
    {
        let out = y.slice_mut(s![1..;2]).into_view_mut();
        assert_eq!((out.len(), out.stride(), out.is_contiguous()), (5, 2, false));
        pass(5, (loopfuse_runtime::pass::Indices(0),), (), (&out,), |(i,)| ((), (i as f64 + 1.0,)));
    }
    assert_eq!(y.to_vec(), [0.0, 1.0, 0.0, 2.0, 0.0, 3.0, 0.0, 4.0, 0.0, 5.0]);
}

#[test]
fn view_layouts() {
    let v = vec![1, 2, 3, 4, 5, 6];
    let a = [1, 2, 3];
    let arr = Array1::from(v.clone());
    assert_eq!((&v).as_view().len(), 6);
    assert_eq!((&a).as_view()[2], 3);
    assert_eq!((&&v[..]).as_view().as_slice(), Some(&v[..]));
    assert_eq!((&arr).as_view().as_slice(), Some(&v[..]));
    let rev = arr.slice(s![..;-1]);
    let r = rev.as_view();
    assert_eq!((r.len(), r.stride(), r[0], r[5], r.as_slice()), (6, -1, 6, 1, None));
    let every2 = arr.slice(s![1..;2]);
    assert_eq!(format!("{:?}", KernelInput::as_view(&&every2)), "[2, 4, 6]");
    // len 0 and 1 are contiguous whatever the stride.
    let empty = arr.slice(s![3..3;-2]);
    assert!(empty.as_view().is_contiguous() && empty.as_view().is_empty());
    assert_eq!(empty.as_view().as_slice(), Some(&[][..]));
    let one = arr.slice(s![4..5;-1]);
    assert_eq!(one.as_view().as_slice(), Some(&[5][..]));
    // stride 0: a broadcast input.
    let seven = ndarray::arr0(7);
    let b = seven.broadcast(4).unwrap();
    let bv = b.as_view();
    assert_eq!((bv.stride(), bv[0], bv[3], bv.as_slice()), (0, 7, 7, None));
    let (s,) = pass(4, (bv,), (Sum::new(),), (), |(x,)| ((x,), ()));
    assert_eq!(s, 28);
}

#[test]
#[should_panic(expected = "index out of bounds: the len is 3 but the index is 3")]
fn view_index_past_the_end() {
    let x = [1, 2, 3];
    let _ = View::from(&x[..])[3];
}

#[test]
#[should_panic(expected = "index out of bounds: the len is 0 but the index is 0")]
fn empty_view_index() {
    let x: [i32; 0] = [];
    let _ = View::from(&x[..])[0];
}

#[test]
#[should_panic(expected = "index out of bounds: the len is 2 but the index is 2")]
fn view_mut_get_past_the_end() {
    let mut x = [1, 2];
    ViewMut::from(&mut x[..]).get(2);
}

#[test]
#[should_panic(expected = "index out of bounds: the len is 2 but the index is 5")]
fn view_mut_set_past_the_end() {
    let mut x = [1, 2];
    ViewMut::from(&mut x[..]).set(5, 0);
}

#[test]
fn split_at_both_ends() {
    let arr = Array1::from(vec![1, 2, 3, 4]);
    let rev = arr.slice(s![..;-1]);
    for mid in 0..=4 {
        let (l, r) = rev.as_view().split_at(mid);
        assert_eq!((l.len(), r.len()), (mid, 4 - mid));
        let all: Vec<i32> = (0..l.len()).map(|i| l[i]).chain((0..r.len()).map(|i| r[i])).collect();
        assert_eq!(all, [4, 3, 2, 1]);
    }
    let mut y = Array1::from(vec![0; 6]);
    {
        let v = y.slice_mut(s![..;2]).into_view_mut();
        let (a, b) = v.split_at(3);
        assert!(b.is_empty());
        let (a0, a1) = a.split_at(0);
        assert!(a0.is_empty());
        for i in 0..a1.len() {
            a1.set(i, 10 + i as i32);
        }
        // The halves are Send: they can go to other threads.
        std::thread::scope(|s| {
            s.spawn(move || assert!(b.is_empty()));
        });
    }
    assert_eq!(y.to_vec(), [10, 0, 11, 0, 12, 0]);
}

#[test]
#[should_panic(expected = "mid > len")]
fn split_at_past_the_end() {
    let x = [1, 2];
    let _ = View::from(&x[..]).split_at(3);
}

#[test]
fn windows_at_both_ends() {
    let x = [0, 1, 2, 3, 4];
    let v = View::from(&x[..]);
    // for i in 1..5 { x[i - 1] }: the first element; for i in 0..4 { x[i + 1] }: the last.
    let w = v.window("k", "x", 1, 5, -1);
    assert_eq!((w.len(), w[0], w[3]), (4, 0, 3));
    let w = v.window("k", "x", 0, 4, 1);
    assert_eq!((w.len(), w[0], w[3]), (4, 1, 4));
    // Empty ranges read nothing, even far out of bounds.
    assert!(v.window("k", "x", 9, 9, 100).is_empty());
    assert!(v.window("k", "x", 9, 3, -100).is_empty());
    // A reversed view: window indices are logical.
    let arr = Array1::from(x.to_vec());
    let rev = arr.slice(s![..;-1]);
    let w = rev.as_view().window("k", "x", 2, 5, 0);
    assert_eq!((w.len(), w[0], w[2]), (3, 2, 0));
    let mut y = [0; 5];
    let mut o = ViewMut::from(&mut y[..]);
    let w = o.window("k", "y", 3, 5, 0);
    w.set(1, 9);
    assert!(o.window("k", "y", 7, 7, 0).is_empty());
    assert_eq!(y, [0, 0, 0, 0, 9]);
}

#[test]
#[should_panic(
    expected = "kernel `k`: index out of bounds: `x[i + 1]` for i in 0..5 accesses 1..=5 but `x` has 5 elements"
)]
fn window_past_the_end() {
    let x = [0; 5];
    View::from(&x[..]).window("k", "x", 0, 5, 1);
}

#[test]
#[should_panic(
    expected = "kernel `k`: index out of bounds: `y[i - 1]` for i in 0..3 accesses -1..=1 but `y` has 5 elements"
)]
fn window_mut_before_the_start() {
    let mut y = [0; 5];
    ViewMut::from(&mut y[..]).window("k", "y", 0, 3, -1);
}

#[test]
fn window_panics_as_the_slice_helper() {
    let x = [0; 5];
    let a = std::panic::catch_unwind(|| loopfuse_runtime::__private::window("k", "x", &x[..], 2, 6, 0).len());
    let b = std::panic::catch_unwind(|| View::from(&x[..]).window("k", "x", 2, 6, 0).len());
    let msg = |e: Box<dyn std::any::Any + Send>| e.downcast::<String>().map(|s| *s).unwrap_or_default();
    assert_eq!(msg(a.unwrap_err()), msg(b.unwrap_err()));
}

#[test]
#[should_panic(expected = "an input has 2 elements, the pass needs 3")]
fn pass_checks_view_lengths() {
    let x = [1.0, 2.0];
    pass(3, (View::from(&x[..]),), (Sum::new(),), (), |(x,)| ((x,), ()));
}

#[test]
fn views_are_send_and_sync_as_documented() {
    fn send<T: Send>() {}
    fn sync<T: Sync>() {}
    send::<View<f64>>();
    sync::<View<f64>>();
    send::<ViewMut<f64>>();
}

#[test]
fn as_cells_only_when_contiguous() {
    let mut y = Array1::from(vec![0, 0, 0, 0]);
    {
        let v = y.slice_mut(s![..;2]).into_view_mut();
        assert!(v.as_cells().is_none());
        let (a, _) = v.split_at(1);
        a.as_cells().unwrap()[0].set(3);
    }
    {
        let v = y.slice_mut(s![1..]).into_view_mut();
        let cells = v.as_cells().unwrap();
        cells[2].set(cells[0].get() + 1);
        assert_eq!(v.get(2), 1);
        let empty = y.slice_mut(s![4..;-1]).into_view_mut();
        assert_eq!(empty.as_cells().map(|c| c.len()), Some(0));
    }
    assert_eq!(y.to_vec(), [3, 0, 0, 1]);
}

#[test]
fn shifted_reads_of_an_output_at_both_ends() {
    // A strided output read shifted by -1 and +1 in the pass that writes it.
    let mut y = Array1::from((0..12).map(|i| i as f64).collect::<Vec<_>>());
    let mut want = y.clone();
    {
        let mut w = want.slice_mut(s![..;-2]);
        let old = w.to_vec();
        for i in 1..5 {
            w[i] = old[i - 1] + old[i + 1];
        }
    }
    {
        let v = y.slice_mut(s![..;-2]).into_view_mut();
        let (before, after) = (v.shifted("k", "y", 1, 5, -1), v.shifted("k", "y", 1, 5, 1));
        assert_eq!((before.len(), after.len()), (4, 4));
        // Into a scratch output first: written in place, y[i] would read the new y[i - 1].
        let mut out = vec![0.0; 4];
        let o = (&mut out).into_view_mut();
        pass(4, (Current(before), Current(after)), (), (&o,), |(a, b)| ((), (a + b,)));
        let mut target = v;
        let t = target.window("k", "y", 1, 5, 0);
        for (j, x) in out.iter().enumerate() {
            t.set(j, *x);
        }
    }
    assert_eq!(y, want);
    // An empty range reads nothing and never panics.
    let mut z = [0.0; 3];
    assert!(ViewMut::from(&mut z[..]).shifted("k", "z", 5, 5, 9).is_empty());
}

#[test]
#[should_panic(
    expected = "kernel `k`: index out of bounds: `z[i + 1]` for i in 0..3 accesses 1..=3 but `z` has 3 elements"
)]
fn shifted_past_the_end() {
    let mut z = [0.0; 3];
    ViewMut::from(&mut z[..]).shifted("k", "z", 0, 3, 1);
}
