"""Counter-based randomness: every draw is a pure function of (seed, agent id, day, stream).

A draw never depends on how many other agents exist, on thread count or on the order in which
kernels run, so runs are reproducible from their seed and paired scenario runs share their random
numbers (common random numbers). The mixer is splitmix64's finaliser applied to a combination of the
four keys, each first spread by a distinct odd constant.
"""

from __future__ import annotations

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
