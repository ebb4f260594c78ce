"""Counting who decides to leave, for the exodus kernels (:mod:`emigre.behaviour.exodus_kernels` imports these):
Poisson counts from one uniform, the per-cell hazard sums in NumPy's own summation order, and a route drawn from
a choice row's cumulative probabilities (all routes, or only those to a refuge from the draft)."""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from emigre.engine.rng import uniform
from emigre.engine.streams import S_COUNT


@njit(cache=True)
def _ndtri(p):
    """Inverse of the standard normal CDF (Acklam's rational approximation, |error| < 1.2e-9)."""
    a0, a1, a2 = -3.969683028665376e01, 2.209460984245205e02, -2.759285104469687e02
    a3, a4, a5 = 1.383577518672690e02, -3.066479806614716e01, 2.506628277459239e00
    b0, b1, b2 = -5.447609879822406e01, 1.615858368580409e02, -1.556989798598866e02
    b3, b4 = 6.680131188771972e01, -1.328068155288572e01
    c0, c1, c2 = -7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e00
    c3, c4, c5 = -2.549732539343734e00, 4.374664141464968e00, 2.938163982698783e00
    d0, d1, d2, d3 = 7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e00, 3.754408661907416e00
    p = min(max(p, 1e-300), 1.0 - 1e-16)
    if p < 0.02425:
        q = math.sqrt(-2.0 * math.log(p))
        return (((((c0 * q + c1) * q + c2) * q + c3) * q + c4) * q + c5) / ((((d0 * q + d1) * q + d2) * q + d3) * q + 1.0)
    if p > 1.0 - 0.02425:
        q = math.sqrt(-2.0 * math.log(1.0 - p))
        return -(((((c0 * q + c1) * q + c2) * q + c3) * q + c4) * q + c5) / ((((d0 * q + d1) * q + d2) * q + d3) * q + 1.0)
    q = p - 0.5
    r = q * q
    return (((((a0 * r + a1) * r + a2) * r + a3) * r + a4) * r + a5) * q / (
        ((((b0 * r + b1) * r + b2) * r + b3) * r + b4) * r + 1.0
    )


@njit(cache=True)
def poisson_from_uniform(lam, u):
    """A Poisson(lam) count from one uniform, monotone in both (so paired runs stay coupled): inversion for
    small means, the continuity-corrected normal approximation above 30."""
    if lam <= 0.0:
        return 0
    if lam > 30.0:
        n = math.floor(lam + math.sqrt(lam) * _ndtri(u) + 0.5)
        return max(0, int(n))
    if u < 1.0 - 2.0 * lam - 1e-15:
        # below exp(-lam) (>= 1 - lam; the margin covers the rounding of both sides): no one, as the loop below
        # would find, without computing the exponential (most cells on most days)
        return 0
    p = math.exp(-lam)
    cdf = p
    k = 0
    while u > cdf and k < 1000:
        k += 1
        p *= lam / k
        cdf += p
    return k


@njit(cache=True)
def _block_sum(v, lo, n):
    """NumPy's pairwise sum of ``v[lo:lo + n]`` for n <= 128: one accumulator below 8 terms, else eight."""
    if n < 8:
        res = 0.0
        for i in range(lo, lo + n):
            res += v[i]
        return res
    r = np.empty(8)
    for j in range(8):
        r[j] = v[lo + j]
    i = 8
    while i < n - (n % 8):
        for j in range(8):
            r[j] += v[lo + i + j]
        i += 8
    res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]))
    while i < n:
        res += v[lo + i]
        i += 1
    return res


@njit(cache=True)
def _pairwise_sum(v, lo, n):
    """Sum of ``v[lo:lo + n]`` in NumPy's order (``numpy.add.reduce`` over a contiguous axis: blocks of at most
    128 terms, halved at multiples of 8 above), so a kernel gives the bits NumPy gives. NumPy recurses; this
    walks the same tree with explicit stacks (Numba's on-disk cache cannot load recursive functions)."""
    if n <= 128:
        return _block_sum(v, lo, n)
    s_lo = np.empty(64, dtype=np.int64)
    s_n = np.empty(64, dtype=np.int64)
    s_right = np.zeros(64, dtype=np.bool_)  # the node's left half is summed, its right half pending
    left = np.empty(64)
    top = 0
    s_lo[0], s_n[0] = lo, n
    val = 0.0
    done = False  # ``val`` is the sum of a finished child of node ``top``
    while True:
        if done:
            if top < 0:
                return val
            if not s_right[top]:  # the left half is done: keep it, sum the right half
                left[top] = val
                s_right[top] = True
                done = False
                h = s_n[top] // 2
                h -= h % 8
                top += 1
                s_lo[top], s_n[top], s_right[top] = s_lo[top - 1] + h, s_n[top - 1] - h, False
            else:
                val = left[top] + val
                top -= 1
            continue
        m = s_n[top]
        if m <= 128:
            val = _block_sum(v, s_lo[top], m)
            top -= 1
            done = True
        else:
            h = m // 2
            h -= h % 8
            top += 1
            s_lo[top], s_n[top], s_right[top] = s_lo[top - 1], h, False


@njit(cache=True)
def hazard_totals(prop, intensity, out):
    """``out[day, cell]`` = the cell's summed departure hazard per person that day, ``sum_r prop[cell, r] x
    intensity[r, day]``, with NumPy's summation order (bit for bit what ``(prop * intensity[:, day]).sum(1)``
    gives). Computed once per run for every day: the probability is then one vectorised ``expm1``."""
    n_cells, n_r = prop.shape
    n_days = intensity.shape[1]
    if n_r < 8:  # one accumulator per cell in reason order; zero terms are skipped (x + 0.0 == x)
        prop_t = np.ascontiguousarray(prop.T)
        for d in range(n_days):
            row = out[d]
            row[:] = 0.0
            for r in range(n_r):
                f = intensity[r, d]
                if f != 0.0:
                    pr = prop_t[r]
                    for c in range(n_cells):
                        row[c] += pr[c] * f
        return
    hz = np.empty(n_r)
    for d in range(n_days):
        for c in range(n_cells):
            for r in range(n_r):
                hz[r] = prop[c, r] * intensity[r, d]
            out[d, c] = _pairwise_sum(hz, 0, n_r)


@njit(cache=True)
def count_departures(seed, day, stock, prob, scale, counts):
    """Travellers deciding to leave today per cell (Poisson with ``stock x prob / scale`` expected agents),
    taken from the cell's stock of persons; returns their number."""
    n = 0
    for c in range(stock.shape[0]):
        k = poisson_from_uniform(max(stock[c], 0.0) * prob[c] / scale, uniform(seed, c, day, S_COUNT))
        counts[c] = k
        n += k
    if n > 0:
        for c in range(stock.shape[0]):
            stock[c] -= counts[c] * scale
    return n


@njit(cache=True, inline="always")
def _sample(cum_row, n, u):
    lo, hi = 0, n - 1
    while lo < hi:
        mid = (lo + hi) // 2
        if cum_row[mid] > u:
            hi = mid
        else:
            lo = mid + 1
    return lo


@njit(cache=True, inline="always")
def _sample_refuge(cum_row, feas_row, n, u, path_dest, p0, draft_share):
    """Route ``u`` of the choice row (over the class's ``n`` feasible routes, ``feas_row``) among the routes to
    destinations that are a refuge from the draft (``draft_share`` 1): the route's place among the origin's
    routes; -1 when the row has none."""
    total = 0.0
    prev = 0.0
    for j in range(n):
        if draft_share[path_dest[p0 + feas_row[j]]] >= 1.0:
            total += cum_row[j] - prev
        prev = cum_row[j]
    if total <= 0.0:
        return -1
    target = u * total
    acc = 0.0
    prev = 0.0
    last = -1
    for j in range(n):
        if draft_share[path_dest[p0 + feas_row[j]]] >= 1.0:
            acc += cum_row[j] - prev
            if cum_row[j] - prev > 0.0:
                last = feas_row[j]
            if acc > target:
                return feas_row[j]
        prev = cum_row[j]
    return last
