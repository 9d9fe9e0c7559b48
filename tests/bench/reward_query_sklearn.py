"""reward_query_sklearn.py - the baseline of tests/bench/reward-query_bench.c:
scikit-learn's GaussianProcessRegressor (Debian python3-sklearn) with the
bench's fixed kernel, ConstantKernel(1) * Matern(LS, nu=2.5), alpha = NOISE,
the optimizer off: fit on the first NOBS points, predict mean and sd on all
NCAND.  Prints the seconds fit + predict took (imports and reading excluded).

usage: python3 reward_query_sklearn.py X.f64 Y.f64 NCAND NOBS DIM LS NOISE
(X.f64: NCAND x DIM float64 row-major, Y.f64: NOBS float64, raw)
"""
import sys
import time
import warnings

import numpy as np
from sklearn.gaussian_process import GaussianProcessRegressor
from sklearn.gaussian_process.kernels import ConstantKernel, Matern


def main():
    xpath, ypath = sys.argv[1], sys.argv[2]
    ncand, nobs, dim = (int(v) for v in sys.argv[3:6])
    ls, noise = float(sys.argv[6]), float(sys.argv[7])
    x = np.fromfile(xpath, dtype=np.float64).reshape(ncand, dim)
    y = np.fromfile(ypath, dtype=np.float64)
    warnings.filterwarnings("ignore")
    kernel = ConstantKernel(1.0, "fixed") * Matern(ls, "fixed", nu=2.5)
    gp = GaussianProcessRegressor(kernel, alpha=noise, optimizer=None,
                                  normalize_y=False)
    t0 = time.perf_counter()
    gp.fit(x[:nobs], y)
    mean, sd = gp.predict(x, return_std=True)
    t = time.perf_counter() - t0
    print("%.6f" % t)
    print("# sklearn: mean[0] %.6g sd[0] %.6g" % (mean[0], sd[0]), file=sys.stderr)


main()
