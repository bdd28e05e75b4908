"""The article's "Comparing the options" table, measured: NumPy, numexpr, Numba, JAX, loopfuse.

    python python/bench.py [--sizes 1e3,1e5,1e7] [--json bench.json] [--quick]

Same arrays, same process (memory: one subprocess per peer). For each workload and size:
the median time per warm call, the first call's latency (Numba's and JAX's compile,
loopfuse's first call), and at the largest size the peak extra memory of one call (the
resident-set high-water mark above the inputs, reset before the call through
/proc/self/clear_refs, Linux). Every peer runs on one thread, as loopfuse does: the process
is pinned to one CPU (Linux), numexpr set to one thread, XLA's multi-threaded Eigen off. A peer that is not installed is skipped with a
note: `pip install numba numexpr "jax[cpu]"` brings them.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

os.environ.setdefault("XLA_FLAGS", "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1")
# The flags alone no longer keep JAX on one thread: JAX 0.10's mean of |x| at 1e7 took 1.5x
# its wall time in CPU time on 2 idle cores (4.9 ms; 9.5 ms on one). One CPU for the whole
# process (the memory subprocesses inherit it) holds every peer to one thread.
if hasattr(os, "sched_setaffinity"):
    os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})

import numpy as np  # noqa: E402

import loopfuse_demo as lf  # noqa: E402

PEERS = ["numpy", "numexpr", "numba", "jax", "loopfuse"]
WORKLOADS = [
    "add_multiple",
    "mean_distance_from_zero",
    "variance",
    "standardize",
    "softmax",
    "standardize_cols",
    "softmax_rows",
    "pairwise_dist",
]
ONE_D = WORKLOADS[:5]
NOTES = []


# --- the implementations -----------------------------------------------------------------


def numpy_impls():
    def add_multiple(arr):
        result = arr + 17
        for _ in range(8):
            result += 17
        return result

    def softmax(x):
        e = np.exp(x - x.max())
        return e / e.sum()

    def softmax_rows(x):
        e = np.exp(x - x.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)

    return {
        "add_multiple": add_multiple,
        "mean_distance_from_zero": lambda a: np.abs(a).mean(),
        "variance": np.var,
        "standardize": lambda x: (x - x.mean()) / x.std(),
        "softmax": softmax,
        "standardize_cols": lambda x: (x - x.mean(axis=0)) / x.std(axis=0),
        "softmax_rows": softmax_rows,
        "pairwise_dist": lambda x, y: np.sqrt(((x[:, None, :] - y[None, :, :]) ** 2).sum(axis=2)),
    }


def numexpr_impls():
    import numexpr as ne

    ne.set_num_threads(1)
    plus = " + ".join(["arr"] + ["17"] * 9)

    def variance(x):
        m = x.mean()  # noqa: F841 (read by numexpr)
        return float(ne.evaluate("sum((x - m) ** 2)")) / len(x)

    def standardize(x):
        m, s = x.mean(), x.std()  # noqa: F841
        return ne.evaluate("(x - m) / s")

    def softmax(x):
        mx = x.max()  # noqa: F841
        e = ne.evaluate("exp(x - mx)")
        s = e.sum()  # noqa: F841
        return ne.evaluate("e / s")

    return {
        "add_multiple": lambda arr: ne.evaluate(plus),
        "mean_distance_from_zero": lambda arr: float(ne.evaluate("sum(abs(arr))")) / len(arr),
        "variance": variance,
        "standardize": standardize,
        "softmax": softmax,
    }


def numba_impls():
    import numba

    @numba.njit
    def add_multiple(arr):
        result = arr + 17
        result += 17
        result += 17
        result += 17
        result += 17
        result += 17
        result += 17
        result += 17
        result += 17
        return result

    @numba.njit
    def mean_distance_from_zero(arr):
        return np.abs(arr).mean()

    @numba.njit
    def myvar2(arr):
        mean = arr.mean()
        total = 0.0
        for item in arr:
            total += (item - mean) ** 2
        return total / len(arr)

    @numba.njit
    def standardize(x):
        return (x - x.mean()) / x.std()

    @numba.njit
    def softmax(x):
        e = np.exp(x - x.max())
        return e / e.sum()

    @numba.njit
    def standardize_cols(x):
        n, m = x.shape
        mean = np.zeros(m)
        for i in range(n):
            for j in range(m):
                mean[j] += x[i, j]
        mean /= n
        var = np.zeros(m)
        for i in range(n):
            for j in range(m):
                var[j] += (x[i, j] - mean[j]) ** 2
        std = np.sqrt(var / n)
        out = np.empty((n, m))
        for i in range(n):
            for j in range(m):
                out[i, j] = (x[i, j] - mean[j]) / std[j]
        return out

    @numba.njit
    def softmax_rows(x):
        n, m = x.shape
        out = np.empty((n, m))
        for i in range(n):
            mx = x[i].max()
            s = 0.0
            for j in range(m):
                e = np.exp(x[i, j] - mx)
                out[i, j] = e
                s += e
            for j in range(m):
                out[i, j] /= s
        return out

    @numba.njit
    def pairwise_dist(x, y):
        n, m, d = x.shape[0], y.shape[0], x.shape[1]
        out = np.empty((n, m))
        for i in range(n):
            for j in range(m):
                s = 0.0
                for k in range(d):
                    t = x[i, k] - y[j, k]
                    s += t * t
                out[i, j] = np.sqrt(s)
        return out

    return {
        "add_multiple": add_multiple,
        "mean_distance_from_zero": mean_distance_from_zero,
        "variance": myvar2,
        "standardize": standardize,
        "softmax": softmax,
        "standardize_cols": standardize_cols,
        "softmax_rows": softmax_rows,
        "pairwise_dist": pairwise_dist,
    }


def jax_impls():
    import jax

    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp

    def add_multiple(arr):
        result = arr + 17
        for _ in range(8):
            result += 17
        return result

    def softmax(x):
        e = jnp.exp(x - x.max())
        return e / e.sum()

    def softmax_rows(x):
        e = jnp.exp(x - x.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)

    fns = {
        "add_multiple": add_multiple,
        "mean_distance_from_zero": lambda a: jnp.abs(a).mean(),
        "variance": jnp.var,
        "standardize": lambda x: (x - x.mean()) / x.std(),
        "softmax": softmax,
        "standardize_cols": lambda x: (x - x.mean(axis=0)) / x.std(axis=0),
        "softmax_rows": softmax_rows,
        "pairwise_dist": lambda x, y: jnp.sqrt(((x[:, None, :] - y[None, :, :]) ** 2).sum(axis=2)),
    }

    def wrap(f):
        jf = jax.jit(f)
        return lambda *a: jf(*a).block_until_ready()

    return {k: wrap(f) for k, f in fns.items()}, lambda a: jax.device_put(a)


def loopfuse_impls():
    return {
        "add_multiple": lf.add_multiple,
        "mean_distance_from_zero": lf.mean_distance_from_zero,
        "variance": lf.myvar,
        "standardize": lf.standardize,
        "softmax": lf.softmax,
        "standardize_cols": lf.standardize_cols,
        "softmax_rows": lf.softmax_rows,
        "pairwise_dist": lf.pairwise_dist,
    }


def load(peer):
    """The peer's implementations and its input conversion, or None with a note."""
    try:
        if peer == "jax":
            return jax_impls()
        impls = {"numpy": numpy_impls, "numexpr": numexpr_impls, "numba": numba_impls, "loopfuse": loopfuse_impls}
        return impls[peer](), lambda a: a
    except ImportError as e:
        NOTES.append(f"{peer}: not installed ({e.name}); skipped (`pip install numba numexpr \"jax[cpu]\"`)")
        return None


def inputs(workload, size, seed=15):
    rng = np.random.default_rng(seed)
    if workload in ONE_D:
        return (rng.standard_normal(size),)
    if workload == "pairwise_dist":
        n = max(1, int(round(size**0.5)))
        return rng.standard_normal((n, 16)), rng.standard_normal((n, 16))
    return (rng.standard_normal((max(1, size // 100), 100)),)


# --- timing ------------------------------------------------------------------------------


def median_time(f, args, size):
    """Median seconds per call over repeats of batches, after one warm call."""
    f(*args)
    batch = max(1, int(2e5 // size))
    repeats = 5 if size >= 1e7 else 21
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        for _ in range(batch):
            f(*args)
        times.append((time.perf_counter() - t0) / batch)
    return statistics.median(times)


def time_peer(peer, sizes):
    loaded = load(peer)
    if loaded is None:
        return None
    impls, convert = loaded
    out = {}
    for w, f in impls.items():
        out[w] = {}
        for i, size in enumerate(sizes):
            args = tuple(convert(a) for a in inputs(w, size))
            entry = {}
            if i == 0:
                t0 = time.perf_counter()
                f(*args)
                entry["first_call_s"] = time.perf_counter() - t0
            entry["median_s"] = median_time(f, args, size)
            out[w][size] = entry
    return out


def noop_overhead():
    """The call overhead of a kernel that does no work (`length`) on 1e3 elements, and of
    `mean_distance_from_zero` there, minus an empty Python call."""
    x = np.ones(1000)
    n = 200_000

    def per_call(f):
        best = float("inf")
        for _ in range(5):
            t0 = time.perf_counter()
            for _ in range(n):
                f(x)
            best = min(best, (time.perf_counter() - t0) / n)
        return best

    empty = per_call(lambda a: None)
    return {"length_s": per_call(lf.length), "empty_python_call_s": empty}


# --- memory (subprocess) -----------------------------------------------------------------


def rss_kib(field):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise RuntimeError(field)


def memory_child(peer, size):
    """Runs in a subprocess: peak extra KiB of one warm call of each workload."""
    impls, convert = load(peer)
    out = {}
    for w, f in impls.items():
        args = tuple(convert(a) for a in inputs(w, size))
        f(*args)  # warm: compile, first-call caches
        before = rss_kib("VmRSS")
        with open("/proc/self/clear_refs", "w") as c:
            c.write("5")  # reset the high-water mark to the current RSS
        r = f(*args)
        peak = rss_kib("VmHWM")
        out[w] = {
            "peak_extra_bytes": max(0, peak - before) * 1024,
            "output_bytes": int(getattr(r, "nbytes", 0)),
            "input_bytes": int(args[0].nbytes),
        }
        del r, args
    json.dump(out, sys.stdout)


def memory(peer, size):
    if not os.path.exists("/proc/self/clear_refs"):
        return None
    cmd = [sys.executable, __file__, "--memory-child", peer, str(size)]
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0:
        NOTES.append(f"{peer}: memory run failed: {p.stderr.strip().splitlines()[-1:]}")
        return None
    return json.loads(p.stdout)


# --- report ------------------------------------------------------------------------------


def fmt_time(s):
    if s is None:
        return "-"
    for unit, k in (("s", 1), ("ms", 1e3), ("us", 1e6), ("ns", 1e9)):
        if s * k >= 1:
            return f"{s * k:.3g} {unit}"
    return f"{s * 1e9:.3g} ns"


def geomean(xs):
    xs = [x for x in xs if x]
    return float(np.exp(np.mean(np.log(xs)))) if xs else None


def report(results, mem, sizes, overhead):
    peers = [p for p in PEERS if results.get(p)]
    lines = []
    hdr = "| workload | size | " + " | ".join(peers) + " | loopfuse vs NumPy | loopfuse vs best JIT |"
    lines += [hdr, "|" + "---|" * (len(peers) + 4)]
    ratios = {"numpy": {}, "jit": {}}
    for w in WORKLOADS:
        for size in sizes:
            t = {p: results[p].get(w, {}).get(size, {}).get("median_s") for p in peers}
            lf_t = t.get("loopfuse")
            jit = [t[p] for p in ("numba", "jax") if t.get(p)]
            vs_np = t["numpy"] / lf_t if lf_t and t.get("numpy") else None
            vs_jit = min(jit) / lf_t if lf_t and jit else None
            ratios["numpy"][(w, size)] = vs_np
            ratios["jit"][(w, size)] = vs_jit
            cells = " | ".join(fmt_time(t[p]) for p in peers)
            r1 = f"{vs_np:.2f}x" if vs_np else "-"
            r2 = f"{vs_jit:.2f}x" if vs_jit else "-"
            lines.append(f"| {w} | {size:.0e} | {cells} | {r1} | {r2} |")
    lines.append("")
    for size in sizes[1:]:
        g_np = geomean([ratios["numpy"][(w, size)] for w in ONE_D])
        g_jit = geomean([ratios["jit"][(w, size)] for w in ONE_D])
        if g_np:
            s = f"1-D kernels at {size:.0e}: loopfuse is {g_np:.2f}x NumPy's speed (geometric mean)"
            lines.append(s + (f", {g_jit:.2f}x the best of Numba/JAX's" if g_jit else ""))
    lines.append("")
    lines.append("First call (compile for the JITs), at the smallest size:")
    lines.append("")
    lines.append("| workload | " + " | ".join(peers) + " |")
    lines.append("|" + "---|" * (len(peers) + 1))
    for w in WORKLOADS:
        cells = " | ".join(fmt_time(results[p].get(w, {}).get(sizes[0], {}).get("first_call_s")) for p in peers)
        lines.append(f"| {w} | {cells} |")
    if mem:
        lines.append("")
        lines.append(f"Peak extra memory of one call at {sizes[-1]:.0e} (in units of the input array's size):")
        lines.append("")
        mp = [p for p in peers if mem.get(p)]
        lines.append("| workload | output | " + " | ".join(mp) + " |")
        lines.append("|" + "---|" * (len(mp) + 2))
        for w in WORKLOADS:
            outb = next((mem[p][w]["output_bytes"] for p in mp if w in mem[p]), 0)
            cells = []
            for p in mp:
                m = mem[p].get(w)
                cells.append("-" if m is None else f"{m['peak_extra_bytes'] / 2**20:.0f} MiB ({m['peak_extra_bytes'] / m['input_bytes']:.2f})")
            lines.append(f"| {w} | {outb / 2**20:.0f} MiB | " + " | ".join(cells) + " |")
    if overhead:
        lines.append("")
        lines.append(
            f"Call overhead at 1e3: `length(x)` (no work) {overhead['length_s'] * 1e9:.0f} ns per call, "
            f"an empty Python call {overhead['empty_python_call_s'] * 1e9:.0f} ns"
        )
    lines.append("")
    lines += summary(results, mem, sizes, peers, ratios)
    lines.append("")
    lines.append("note: memory is the RSS high-water mark; JAX's XLA allocator keeps the buffers of the warm call")
    lines.append("and reuses them, so a JAX figure below its output's size means 'not seen', not 'none'.")
    if NOTES:
        lines.append("")
        lines += [f"note: {n}" for n in NOTES]
    return "\n".join(lines)


def summary(results, mem, sizes, peers, ratios):
    """The article's table, each cell backed by a measured number."""
    big, mid = sizes[-1], sizes[len(sizes) // 2]
    fused = ["add_multiple", "standardize", "softmax"]
    rows = [
        "| option | cross-operation optimization | CPU-specific code | memory efficiency | no JIT warm-up |",
        "|---|---|---|---|---|",
    ]
    for p in peers:
        def speed(w, size, p=p):
            a, b = results["numpy"][w][size]["median_s"], results[p].get(w, {}).get(size, {}).get("median_s")
            return a / b if b else None

        cross = geomean([speed(w, big) for w in fused if w in results[p]])
        cpu = geomean([speed(w, mid) for w in ONE_D if w in results[p]])
        m = (mem or {}).get(p, {}).get("standardize")
        memx = m["peak_extra_bytes"] / m["output_bytes"] if m else None
        first = max(v[sizes[0]].get("first_call_s", 0) for v in results[p].values())
        yes = lambda ok: "yes" if ok else "no"  # noqa: E731
        rows.append(
            f"| {p} | {yes(cross and cross > 1.3)} ({cross:.2f}x NumPy on {'/'.join(fused)} at {big:.0e}) "
            f"| {yes(cpu and cpu > 1.3)} ({cpu:.2f}x NumPy on the 1-D kernels at {mid:.0e}) "
            f"| {yes(memx is not None and memx < 1.5)} ("
            + (f"{memx:.1f}x the output on standardize" if memx is not None else "not measured")
            + f") | {yes(first < 1e-3)} (slowest first call {fmt_time(first)}) |"
        )
    return ["The article's table, measured:", ""] + rows


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="1e3,1e5,1e7")
    ap.add_argument("--json", default="bench.json")
    ap.add_argument("--peers", default=",".join(PEERS))
    ap.add_argument("--memory-child", nargs=2, help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.memory_child:
        memory_child(a.memory_child[0], int(float(a.memory_child[1])))
        return
    sizes = [int(float(s)) for s in a.sizes.split(",")]
    peers = a.peers.split(",")
    if "numpy" not in peers:
        peers.insert(0, "numpy")
    results = {}
    for p in peers:
        print(f"timing {p} ...", file=sys.stderr, flush=True)
        results[p] = time_peer(p, sizes)
    results = {p: r for p, r in results.items() if r}
    print("memory ...", file=sys.stderr, flush=True)
    mem = {p: memory(p, sizes[-1]) for p in results}
    overhead = noop_overhead()
    print(report(results, mem, sizes, overhead))
    with open(a.json, "w") as f:
        json.dump(
            {"sizes": sizes, "time": results, "memory": mem, "overhead": overhead, "notes": NOTES},
            f,
            indent=1,
            default=str,
        )


if __name__ == "__main__":
    main()
