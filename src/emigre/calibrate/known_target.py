"""The known target: a Gaussian posterior with the calibration's shape, to check the sampler alone.

Prior N(0, I) on 56 parameters; a Gaussian likelihood on the first 40 with a random dense precision (so they
are correlated) and a ridge (coordinates 0 and 1 informed strongly through their sum only); the other 16 no
datum informs. The posterior is known exactly: N(mean, (I + P)^-1). Used by tests/test_calibrate_sampler.py and
``benchmarks/bench_sbc.py --target known``; it lives here because a test may not import a benchmark.
"""

from __future__ import annotations

import math

import numpy as np

#: the parameters in all, and those the likelihood informs (the first ones)
DIMENSIONS = 56
INFORMED = 40


def ridge_precision(rng: np.random.Generator, informed: int = INFORMED) -> np.ndarray:
    """The likelihood's precision over the informed coordinates, drawn from ``rng`` (which it advances): a
    random dense matrix, 0.5 on the diagonal, and 50 on the sum of coordinates 0 and 1 (the ridge)."""
    a = rng.standard_normal((informed, informed)) / math.sqrt(informed)
    p = a @ a.T * 10 + 0.5 * np.eye(informed)
    ridge = np.zeros(informed)
    ridge[:2] = 1.0
    p += 50 * np.outer(ridge, ridge)
    return p
