"""Counter-based randomness: every draw is a pure function of (seed, agent id, day, stream).

A draw never depends on how many other agents exist, on thread count or on the order in which
kernels run, so runs are reproducible from their seed and paired scenario runs share their random
numbers (common random numbers). The mixer is splitmix64's finaliser applied to a combination of the
four keys, each first spread by a distinct odd constant.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_K_AGENT = np.uint64(0xD6E8FEB86659FD93)
_K_DAY = np.uint64(0xA0761D6478BD642F)
_K_STREAM = np.uint64(0xE7037ED1A0B428DB)
_S30 = np.uint64(30)
_S27 = np.uint64(27)
_S31 = np.uint64(31)
_S11 = np.uint64(11)
_INV53 = 1.0 / 9007199254740992.0  # 2**-53


@njit(inline="always", cache=True)
def _mix(z):
    z = (z ^ (z >> _S30)) * _M1
    z = (z ^ (z >> _S27)) * _M2
    return z ^ (z >> _S31)


@njit(inline="always", cache=True)
def hash64(seed, agent, day, stream):
    """64-bit hash of the four keys (all converted to uint64 first: numba mixes signed and
    unsigned integers into floats otherwise)."""
    z = _mix(np.uint64(seed) * _GOLDEN + _GOLDEN)
    z = _mix(z ^ (np.uint64(agent) * _K_AGENT))
    z = _mix(z ^ (np.uint64(day) * _K_DAY))
    return _mix(z ^ (np.uint64(stream) * _K_STREAM))


@njit(inline="always", cache=True)
def uniform(seed, agent, day, stream):
    """A uniform double in [0, 1) for (seed, agent, day, stream)."""
    return float(hash64(seed, agent, day, stream) >> _S11) * _INV53


@njit(inline="always", cache=True)
def day_key(seed, day, stream):
    """The part of the hash that does not depend on the agent: compute once per day and stream, then
    draw with :func:`uniform_keyed` (two mixing rounds per agent instead of four)."""
    z = _mix(np.uint64(seed) * _GOLDEN + _GOLDEN)
    z = _mix(z ^ (np.uint64(day) * _K_DAY))
    return _mix(z ^ (np.uint64(stream) * _K_STREAM))


@njit(inline="always", cache=True)
def uniform_keyed(key, agent):
    """A uniform double in [0, 1) for (key, agent); ``key`` from :func:`day_key`."""
    z = _mix(key ^ (np.uint64(agent) * _K_AGENT))
    return float(_mix(z + _GOLDEN) >> _S11) * _INV53


def uniforms(seed: int, agents: np.ndarray, day: int, stream: int) -> np.ndarray:
    """Vectorised :func:`uniform` for an array of agent ids (for tests and non-kernel code)."""
    return _uniforms(np.int64(seed), np.asarray(agents, dtype=np.int64), np.int64(day), np.int64(stream))


@njit(cache=True)
def _uniforms(seed, agents, day, stream):
    out = np.empty(agents.shape[0], dtype=np.float64)
    for i in range(agents.shape[0]):
        out[i] = uniform(seed, agents[i], day, stream)
    return out


#: :func:`geometric`'s answer when the chance is 0 (or the wait would not fit in an int32 day count).
GEOMETRIC_NEVER = 1 << 30


@njit(inline="always", cache=True)
def geometric(u, p):
    """Failed daily trials before the first success, each with chance ``p``, from one uniform ``u`` in
    [0, 1) by inverse CDF: P(result >= j) = (1 - p)^j. 0 when p >= 1; :data:`GEOMETRIC_NEVER` when p <= 0
    (or the wait is that long). Drawing the wait once replaces one Bernoulli draw per day, exactly in
    distribution, as long as ``p`` stays the same (the process is memoryless: redraw when it changes)."""
    if p >= 1.0:
        return 0
    if p <= 0.0:
        return GEOMETRIC_NEVER
    x = math.log(1.0 - u) / math.log1p(-p)
    if x >= GEOMETRIC_NEVER:
        return GEOMETRIC_NEVER
    return int(x)


def geometric_scale(p: np.ndarray) -> np.ndarray:
    """Per-chance scale for :func:`geometric_scaled`: -1/log(1 - p); 0 where p >= 1, inf where p <= 0."""
    p = np.asarray(p, dtype=np.float64)
    with np.errstate(divide="ignore"):
        out = -1.0 / np.log1p(-np.minimum(p, 1.0))
    out[p >= 1.0] = 0.0
    out[p <= 0.0] = np.inf
    return out


@njit(inline="always", cache=True)
def geometric_scaled(u, scale):
    """:func:`geometric` with the chance given as ``scale = geometric_scale(p)`` (one logarithm per
    draw instead of two and no division): floor(-log(1 - u) x scale), :data:`GEOMETRIC_NEVER` when
    that is not below it (p <= 0)."""
    x = -math.log(1.0 - u) * scale
    if x < GEOMETRIC_NEVER:  # False for inf and for NaN (0 x inf)
        return int(x)
    return GEOMETRIC_NEVER
