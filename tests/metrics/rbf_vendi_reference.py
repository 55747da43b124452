"""The reference values of test_vendi.cpp's RbfVendiMatchesFortyDigitArithmetic.

Vendi scores of the RBF kernel (sigma = 2) on 150 well-spread 2-D points, computed with
40-digit arithmetic (mpmath): the kernel, its eigenvalues and the scores. The points form a
rank-1 lattice, x_i = i * L / n, y_i = (23 i mod n) * L / n with L = 5.5, each coordinate
the double that C++ and Python both compute for that quotient; mpmath takes those doubles
exactly.

Usage: /usr/bin/python3 tests/metrics/rbf_vendi_reference.py   (Debian: python3-mpmath)
Takes a few minutes; prints the constants the test holds.
"""
import mpmath

N, G, L, SIGMA = 150, 23, 5.5, 2
mpmath.mp.dps = 40


def main():
    points = [(i * L / N, (G * i % N) * L / N) for i in range(N)]  # Python floats = C++ doubles
    scale = mpmath.mpf(1) / (2 * SIGMA * SIGMA)
    k = mpmath.matrix(N, N)
    for i in range(N):
        for j in range(N):
            dx = mpmath.mpf(points[i][0]) - mpmath.mpf(points[j][0])
            dy = mpmath.mpf(points[i][1]) - mpmath.mpf(points[j][1])
            k[i, j] = mpmath.exp(-(dx * dx + dy * dy) * scale) / N
    eigenvalues = mpmath.eigsy(k, eigvals_only=True)
    lam = [e for e in eigenvalues]
    assert min(lam) > 0, "an RBF kernel on distinct points is positive definite"
    total = mpmath.fsum(lam)
    lam = [e / total for e in lam]
    largest = max(lam)
    shannon = mpmath.exp(-mpmath.fsum(e * mpmath.log(e) for e in lam))
    order = lambda q: mpmath.fsum(e**q for e in lam) ** (1 / (1 - mpmath.mpf(q)))
    print(f"smallest / largest eigenvalue: {mpmath.nstr(min(lam) / largest, 5)}")
    print(f"eigenvalues below 1e-10 of the largest: {sum(1 for e in lam if e < 1e-10 * largest)}")
    for name, value in [("q=1", shannon), ("q=1.5", order(1.5)), ("q=2", order(2)),
                        ("q=inf", 1 / largest)]:
        print(f"{name}: {mpmath.nstr(value, 25)}")


main()
