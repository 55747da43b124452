"""NumPy's side of bench_vendi: times the same computations on the same matrices.

Usage: /usr/bin/python3 vendi_numpy.py DIR  (DIR holds embeddings.npy and precomputed.npy,
written by bench_vendi). Prints one JSON object of best-of-N seconds. OpenBLAS threads come
from OPENBLAS_NUM_THREADS, which bench_vendi sets to match its own run.
"""
import json
import sys
import time

import numpy as np


def best_seconds(repeats, work):
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        work()
        best = min(best, time.perf_counter() - start)
    return best


def cosine_vendi_dxd(x):
    # What the Vendi paper's reference code does for embeddings, with the d x d trick:
    # normalise rows, X.T @ X / n (NumPy calls dsyrk for this), eigvalsh, Shannon entropy.
    y = x / np.linalg.norm(x, axis=1, keepdims=True)
    w = np.linalg.eigvalsh(y.T @ y / x.shape[0])
    w = w[w > 1e-10 * w.max()]
    return np.exp(-(w * np.log(w)).sum())


def main():
    folder = sys.argv[1]
    embeddings = np.load(f"{folder}/embeddings.npy")
    precomputed = np.load(f"{folder}/precomputed.npy")
    result = {
        "numpy": np.__version__,
        "dxd": best_seconds(3, lambda: cosine_vendi_dxd(embeddings)),
        "eigvalsh": best_seconds(1, lambda: np.linalg.eigvalsh(precomputed)),
    }
    print(json.dumps(result))


main()
