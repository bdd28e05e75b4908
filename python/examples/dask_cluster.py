"""loopfuse kernels on a Dask cluster: Dask distributes the chunks, loopfuse computes each one.

    python python/examples/dask_cluster.py [--n 40000000] [--chunks 8]

A `distributed.LocalCluster` with 2 worker processes on loopback; a chunked `dask.array`
goes through `da.map_blocks` with a loopfuse kernel (`add_multiple`), and the mean and
variance of the whole array are a reduction whose per-chunk partials come from the loopfuse
kernel `mean_var` (each chunk's mean and variance, two passes over the chunk, no
temporary), combined on the client as Chan et al.'s parallel variance does. Everything is
compared with NumPy on one machine.
"""

import argparse

import dask
import dask.array as da
import numpy as np
from distributed import Client, LocalCluster

import loopfuse_demo as lf


def chunk_stats(block):
    """One chunk's partials from the loopfuse kernel `mean_var`: (count, mean, M2 = n * var)."""
    mean, var = lf.mean_var(block)
    return np.array([[block.size, mean, var * block.size]])


def combine(stats):
    """Chan's pairwise combination of (count, mean, M2) partials."""
    n, mean, m2 = 0.0, 0.0, 0.0
    for nb, mb, m2b in stats:
        if nb == 0:
            continue
        delta = mb - mean
        total = n + nb
        mean += delta * nb / total
        m2 += m2b + delta * delta * n * nb / total
        n = total
    return mean, m2 / n


def run(n=40_000_000, chunks=8, workers=2):
    """The mean and variance of `add_multiple(x)` (`x` + 17, nine times) for `n` random values in `chunks` chunks, on a
    cluster of `workers` processes, with the NumPy answers computed here."""
    cluster = LocalCluster(
        n_workers=workers, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None
    )
    with cluster, Client(cluster) as client:
        x = da.random.default_rng(15).standard_normal(n, chunks=-(-n // chunks))
        shifted = x.map_blocks(lf.add_multiple, dtype=np.float64)  # a loopfuse kernel per chunk
        parts = shifted.map_blocks(chunk_stats, new_axis=1, chunks=((1,) * shifted.numblocks[0], (3,)), dtype=float)
        stats, xs, got = dask.compute(parts, x, shifted)  # on the cluster (the client is the default)
        mean, var = combine(stats)
        want = xs + 17.0  # NumPy, on this machine: the same nine additions of 17
        for _ in range(8):
            want += 17.0
        return {
            "n": n,
            "chunks": shifted.numblocks[0],
            "workers": len(client.scheduler_info()["workers"]),
            "mean": mean,
            "var": var,
            "numpy_mean": float(np.mean(want)),
            "numpy_var": float(np.var(want)),
            "elementwise_equal": bool(np.array_equal(got, want)),
        }


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=40_000_000)
    ap.add_argument("--chunks", type=int, default=8)
    a = ap.parse_args()
    r = run(a.n, a.chunks)
    for k, v in r.items():
        print(f"{k:20} {v}")
    assert r["elementwise_equal"]
    assert np.isclose(r["mean"], r["numpy_mean"], rtol=1e-9) and np.isclose(r["var"], r["numpy_var"], rtol=1e-9)
    print("loopfuse on the cluster matches NumPy")


if __name__ == "__main__":
    main()
