"""`qdgen metrics vendi` as a whole process against NumPy doing the same in this script.

Usage: /usr/bin/python3 tests/bench/vendi_cli_vs_numpy.py [QDGEN] [--repeats R] [--quick]
(QDGEN defaults to build/bin/qdgen; Debian's NumPy: apt-get install python3-numpy.)

Writes three NPY files to a temporary folder: 20,000 x 768 standard normal embeddings in
float64 and the same values in float32, and the 5,000 x 5,000 RBF kernel (sigma 2) of 5,000
standard normal points in 16 dimensions, the matrices bench_vendi uses. Then, alternately
and R times each (default 5; 3 for the kernel):

  qdgen:  process start to printed result of `qdgen metrics vendi FILE --q 1`
          (`--kernel precomputed` for the kernel), start-up, mapping and all;
  NumPy:  np.load, row normalisation, X.T @ X / n and eigvalsh, and the exponential of the
          entropy (np.load and eigvalsh of K / n for the kernel), timed inside this script,
          so NumPy's own start-up and import are not counted against it.

Both use the machine's OpenBLAS with the same thread count (OPENBLAS_NUM_THREADS if set).
Prints each side's best, median and range, the ratios NumPy / qdgen (above 1: qdgen is
faster), the two Vendi scores (they must agree) and the load averages before and after.
"""
import argparse
import json
import os
import statistics
import subprocess
import tempfile
import time

import numpy as np


def vendi_of_spectrum(w):
    w = w[w > max(w.shape[0], 1) * np.finfo(np.float64).eps * w.max()]
    w = w / w.sum()
    return float(np.exp(-(w * np.log(w)).sum()))


def numpy_features(path):
    x = np.load(path)
    y = x / np.linalg.norm(x, axis=1, keepdims=True)
    return vendi_of_spectrum(np.linalg.eigvalsh(y.T @ y / x.shape[0]))


def numpy_features_in_double(path):
    x = np.load(path).astype(np.float64)
    y = x / np.linalg.norm(x, axis=1, keepdims=True)
    return vendi_of_spectrum(np.linalg.eigvalsh(y.T @ y / x.shape[0]))


def numpy_kernel(path):
    k = np.load(path)
    return vendi_of_spectrum(np.linalg.eigvalsh(k / k.shape[0]))


def timed(work):
    start = time.perf_counter()
    value = work()
    return time.perf_counter() - start, value


def qdgen_run(qdgen, path, kernel):
    command = [qdgen, "metrics", "vendi", path, "--q", "1", "--format", "json"]
    if kernel:
        command += ["--kernel", "precomputed"]
    start = time.perf_counter()
    out = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    seconds = time.perf_counter() - start
    return seconds, json.loads(out)[0]["vendi"]


def load_averages():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def summary(times):
    return (f"best {min(times):.3f} s, median {statistics.median(times):.3f} s, "
            f"range {min(times):.3f}-{max(times):.3f} s")


def main():
    parser = argparse.ArgumentParser(description="qdgen metrics vendi against NumPy")
    parser.add_argument("qdgen", nargs="?", default="build/bin/qdgen")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="skip the 5,000 x 5,000 kernel")
    options = parser.parse_args()
    qdgen = os.path.abspath(options.qdgen)
    repeats, quick = options.repeats, options.quick
    print(f"qdgen {qdgen}; NumPy {np.__version__}; OPENBLAS_NUM_THREADS="
          f"{os.environ.get('OPENBLAS_NUM_THREADS', '(default: one per core)')}")
    print(f"load averages before: {load_averages()}")
    with tempfile.TemporaryDirectory(prefix="qdgen-vendi-cli-") as folder:
        rng = np.random.default_rng(1)
        x = rng.standard_normal((20000, 768))
        np.save(f"{folder}/embeddings64.npy", x)
        np.save(f"{folder}/embeddings32.npy", x.astype(np.float32))
        del x
        cases = [("20,000 x 768 float64", "embeddings64.npy", False, repeats),
                 ("20,000 x 768 float32", "embeddings32.npy", False, repeats)]
        if not quick:
            p = rng.standard_normal((5000, 16))
            squared = (p * p).sum(axis=1)
            k = np.exp(-np.maximum(squared[:, None] + squared[None, :] - 2 * p @ p.T, 0) / 8)
            np.fill_diagonal(k, 1.0)
            np.save(f"{folder}/kernel.npy", k)
            del k
            cases.append(("5,000 x 5,000 precomputed kernel", "kernel.npy", True,
                          max(1, min(repeats, 3))))
        for name, file, kernel, runs in cases:
            path = f"{folder}/{file}"
            single = file.endswith("32.npy")
            ours, theirs, doubles = [], [], []
            for _ in range(runs):
                seconds, our_score = qdgen_run(qdgen, path, kernel)
                ours.append(seconds)
                seconds, their_score = timed(
                    lambda: numpy_kernel(path) if kernel else numpy_features(path))
                theirs.append(seconds)
                if single:
                    seconds, double_score = timed(lambda: numpy_features_in_double(path))
                    doubles.append(seconds)
            print(f"\n{name} ({runs} runs each, alternating)")
            print(f"  qdgen process: {summary(ours)}; Vendi q=1 {our_score:.10g}")
            print(f"  NumPy in here: {summary(theirs)}; Vendi q=1 {their_score:.10g}"
                  + (" (NumPy computes in float32)" if single else ""))
            print(f"  NumPy / qdgen: {min(theirs) / min(ours):.2f} (best), "
                  f"{statistics.median(theirs) / statistics.median(ours):.2f} (median)")
            if single:
                print(f"  NumPy in float64 (astype first, as qdgen computes): {summary(doubles)}; "
                      f"Vendi q=1 {double_score:.10g}")
                print(f"  NumPy in float64 / qdgen: {min(doubles) / min(ours):.2f} (best), "
                      f"{statistics.median(doubles) / statistics.median(ours):.2f} (median)")
    print(f"\nload averages after: {load_averages()}")


main()
