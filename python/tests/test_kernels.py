"""Every function of `loopfuse_demo` against NumPy: f64 and f32, every layout, errors, GIL."""

import os
import threading
import time

import numpy as np
import pytest

import loopfuse_demo as lf

RNG = np.random.default_rng(15)


def layouts(n, dtype):
    """1-D arrays of `n` elements in every layout: contiguous, sliced, reversed."""
    base = RNG.standard_normal(3 * n + 1).astype(dtype)
    yield "C", np.ascontiguousarray(base[:n])
    yield "step 3", base[::3][:n]
    yield "reversed", base[::-1][:n]
    yield "reversed step 2", base[::-2][:n]


def layouts_2d(n, m, dtype=np.float64):
    """2-D arrays of shape (n, m): C, F, sliced, transposed, negative strides."""
    base = RNG.standard_normal((2 * n, 2 * m)).astype(dtype)
    yield "C", np.ascontiguousarray(base[:n, :m])
    yield "F", np.asfortranarray(base[:n, :m])
    yield "sliced", base[::2, ::2]
    yield "transposed", np.ascontiguousarray(base[:m, :n]).T
    yield "reversed", base[::-2, ::-2]


def tol(dtype):
    return {"rtol": 1e-12, "atol": 1e-12} if dtype == np.float64 else {"rtol": 2e-5, "atol": 2e-6}


def np_softmax(x):
    e = np.exp(x - x.max())
    return e / e.sum()


ONE_D = {
    "add_multiple": (lambda x: lf.add_multiple(x), lambda x: x + 17 * 9),
    "mean_distance_from_zero": (lambda x: lf.mean_distance_from_zero(x), lambda x: np.abs(x).mean()),
    "myvar": (lambda x: lf.myvar(x), np.var),
    "myvar2": (lambda x: lf.myvar2(x), np.var),
    "standardize": (lambda x: lf.standardize(x), lambda x: (x - x.mean()) / x.std()),
    "softmax": (lambda x: lf.softmax(x), np_softmax),
}


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("n", [1, 7, 1000, 100_003])
@pytest.mark.parametrize("name", sorted(ONE_D))
def test_one_d_against_numpy(name, n, dtype):
    kernel, reference = ONE_D[name]
    for layout, x in layouts(n, dtype):
        got = kernel(x)
        with np.errstate(invalid="ignore", divide="ignore"):
            want = reference(x.astype(np.float64)).astype(dtype)
        if isinstance(got, np.ndarray):
            assert got.dtype == dtype and got.shape == x.shape, (name, layout)
            assert got.flags.owndata or got.base is not None
        else:
            assert isinstance(got, float), (name, layout, type(got))
        np.testing.assert_allclose(got, want, err_msg=f"{name} {layout}", **tol(dtype))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_hypot(dtype):
    for (lx, x), (ly, y) in zip(layouts(1001, dtype), reversed(list(layouts(1001, dtype)))):
        got = lf.hypot(x, y)
        assert got.dtype == dtype
        np.testing.assert_allclose(got, np.hypot(x, y), err_msg=f"{lx} {ly}", **tol(dtype))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_axpy_in_place(dtype):
    for (lx, x), (ly, y) in zip(layouts(1001, dtype), reversed(list(layouts(1001, dtype)))):
        want = y + dtype(2.5) * x
        before = y
        assert lf.axpy(2.5, x, y) is None
        assert np.shares_memory(before, y) and before is y
        np.testing.assert_allclose(y, want, err_msg=f"{lx} {ly}", **tol(dtype))


def test_axpy_writes_through_a_view():
    buf = np.zeros(20)
    view = buf[::-2]
    lf.axpy(1.0, np.arange(10.0), view)
    np.testing.assert_array_equal(buf[::-2], np.arange(10.0))
    np.testing.assert_array_equal(buf[-2::-2], 0.0)


def test_length_and_integer_result():
    assert lf.length(np.zeros(12)) == 12
    assert isinstance(lf.length(np.zeros(3)), int)


def test_zero_length():
    for dtype in (np.float64, np.float32):
        e = np.array([], dtype=dtype)
        assert lf.add_multiple(e).shape == (0,) and lf.add_multiple(e).dtype == dtype
        assert lf.standardize(e).shape == (0,)
        assert lf.hypot(e, e).shape == (0,)
        assert np.isnan(lf.mean_distance_from_zero(e))
        assert np.isnan(lf.myvar(e)) and np.isnan(lf.myvar2(e))
        lf.axpy(1.0, e, e.copy())
        e2 = np.zeros((0, 3))
        assert lf.standardize_cols(e2).shape == (0, 3)
        assert lf.pairwise_dist(e2, np.zeros((4, 3))).shape == (0, 4)


def test_standardize_cols():
    for layout, x in layouts_2d(300, 17):
        want = (x - x.mean(axis=0)) / x.std(axis=0)
        np.testing.assert_allclose(lf.standardize_cols(x), want, err_msg=layout, **tol(np.float64))


def test_softmax_rows():
    for layout, x in layouts_2d(120, 33):
        e = np.exp(x - x.max(axis=1, keepdims=True))
        want = e / e.sum(axis=1, keepdims=True)
        np.testing.assert_allclose(lf.softmax_rows(x), want, err_msg=layout, **tol(np.float64))


def test_pairwise_dist():
    for (lx, x), (ly, y) in zip(layouts_2d(40, 5), layouts_2d(30, 5)):
        y = y[:30] if y.shape[0] >= 30 else y
        want = np.sqrt(((x[:, None, :] - y[None, :, :]) ** 2).sum(axis=2))
        np.testing.assert_allclose(lf.pairwise_dist(x, y), want, err_msg=f"{lx} {ly}", **tol(np.float64))


def test_results_own_their_buffer():
    r = lf.add_multiple(np.zeros(10))
    assert r.flags.c_contiguous and r.flags.writeable
    r2 = lf.standardize_cols(np.ones((4, 3)) + np.arange(3))
    assert r2.shape == (4, 3) and r2.flags.writeable


# --- errors ------------------------------------------------------------------------------


def raises(exc, match, f, *args):
    with pytest.raises(exc, match=match):
        f(*args)


def test_wrong_dtype():
    raises(
        TypeError,
        r"kernel `myvar`: parameter `arr` accepts a 1-d float32 or float64 array, got a 1-d int64 array",
        lf.myvar,
        np.arange(5),
    )
    raises(
        TypeError,
        r"kernel `hypot`: parameter `y` accepts a 1-d float64 array, got a 1-d float32 array",
        lf.hypot,
        np.ones(3),
        np.ones(3, dtype=np.float32),
    )
    raises(
        TypeError,
        r"kernel `standardize_cols`: parameter `x` accepts a 2-d float64 array, got a 2-d float32 array",
        lf.standardize_cols,
        np.ones((2, 2), dtype=np.float32),
    )


def test_wrong_ndim():
    raises(
        TypeError,
        r"kernel `softmax`: parameter `x` accepts a 1-d float64 array, got a 2-d float64 array",
        lf.softmax,
        np.ones((2, 2)),
    )
    raises(
        TypeError,
        r"kernel `pairwise_dist`: parameter `y` accepts a 2-d float64 array, got a 1-d float64 array",
        lf.pairwise_dist,
        np.ones((2, 2)),
        np.ones(2),
    )


def test_not_an_array():
    raises(TypeError, r"parameter `arr` accepts .* got a `list` \(convert it with `numpy.asarray`\)", lf.myvar, [1.0])
    raises(TypeError, r"kernel `axpy`: parameter `a` accepts a float, got a `str`", lf.axpy, "2", np.ones(2), np.ones(2))


def test_shape_mismatch():
    raises(ValueError, r"^kernel `hypot`: `x` has 5 elements but `y` has 4$", lf.hypot, np.ones(5), np.ones(4))
    raises(ValueError, r"kernel `axpy`: .* has 3 elements but .* has 4", lf.axpy, 1.0, np.ones(3), np.ones(4))
    raises(
        ValueError,
        r"kernel `pairwise_dist`: cannot broadcast `y.insert_axis\(Axis\(0\)\)` with shape \[1, 3, 5\]",
        lf.pairwise_dist,
        np.ones((3, 4)),
        np.ones((3, 5)),
    )


def test_empty_max():
    raises(ValueError, r"^kernel `softmax`: `x.max\(\)` of an empty array has no value$", lf.softmax, np.array([]))


def test_in_place_output_must_be_writable_and_unaliased():
    x = np.ones(4)
    raises(ValueError, r"kernel `axpy`: parameter `y` shares memory with an array the kernel writes", lf.axpy, 1.0, x, x)
    raises(ValueError, r"parameter `y` shares memory", lf.axpy, 1.0, x, x[::-1])
    ro = np.ones(4)
    ro.flags.writeable = False
    raises(ValueError, r"kernel `axpy`: parameter `y` is written in place but is a read-only array", lf.axpy, 1.0, x, ro)


def test_arguments_by_keyword_and_count():
    y = np.zeros(3)
    lf.axpy(a=2.0, x=np.ones(3), y=y)
    np.testing.assert_array_equal(y, 2.0)
    with pytest.raises(TypeError):
        lf.myvar()
    with pytest.raises(TypeError):
        lf.myvar(np.ones(2), np.ones(2))


def test_errors_leave_the_interpreter_usable():
    for _ in range(100):
        with pytest.raises(ValueError):
            lf.hypot(np.ones(2), np.ones(3))
    assert lf.myvar(np.array([1.0, 3.0])) == 1.0


# --- the GIL -----------------------------------------------------------------------------


def test_gil_is_released_during_a_call():
    """While one thread is inside a long kernel call, another runs Python code: with the GIL
    held for the whole call it could not run at all (holds on any number of cores)."""
    x = RNG.standard_normal(20_000_000)
    lf.softmax(x[:1000])
    inside = threading.Event()
    done = threading.Event()

    def call():
        inside.set()
        lf.softmax(x)  # about 0.1 s
        done.set()

    t = threading.Thread(target=call)
    t.start()
    inside.wait()
    time.sleep(0.001)
    ticks = 0
    while not done.is_set():
        ticks += 1
    t.join()
    assert ticks > 100_000, f"the main thread ran {ticks} loop iterations while the kernel ran"


@pytest.mark.skipif((os.cpu_count() or 1) < 2, reason="needs two cores")
@pytest.mark.skipif(
    os.getloadavg()[0] > (os.cpu_count() or 1) - 1.5, reason="the cores are busy with other work: no second core to measure"
)
def test_two_threads_run_in_parallel():
    x = RNG.standard_normal(2_000_000)

    def work():
        for _ in range(15):
            lf.softmax(x)

    def timed(threads):
        ts = [threading.Thread(target=work) for _ in range(threads)]
        t0 = time.perf_counter()
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        return time.perf_counter() - t0

    work()  # warm up
    # Best of three: the machine may be busy with something else.
    one = min(timed(1) for _ in range(3))
    two = min(timed(2) for _ in range(3))
    # Serialized by the GIL, two runs take 2x one; in parallel about 1x (memory bandwidth or
    # a loaded machine cost some of that, hence the margin).
    assert two < 1.75 * one, f"two threads took {two:.3f} s, one {one:.3f} s"
