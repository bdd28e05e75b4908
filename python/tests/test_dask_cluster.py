"""The Dask example, small: 2 worker processes on loopback, loopfuse kernels per chunk."""

import pathlib
import sys

import numpy as np
import pytest

pytest.importorskip("distributed")
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "examples"))

import dask_cluster  # noqa: E402


def test_dask_cluster_matches_numpy():
    r = dask_cluster.run(n=400_003, chunks=8, workers=2)
    assert r["workers"] == 2 and r["chunks"] == 8
    assert r["elementwise_equal"]
    np.testing.assert_allclose(r["mean"], r["numpy_mean"], rtol=1e-12)
    np.testing.assert_allclose(r["var"], r["numpy_var"], rtol=1e-10)
