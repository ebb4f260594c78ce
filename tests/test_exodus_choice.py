"""The exodus day loop's choice step and departure counts (issue 12, cheaper evaluations) compute what their
plain definitions say.

- ``choice_tables`` keeps, per class, the list of its origin's feasible routes (as of the rule epoch) and the
  cumulative nested-logit probabilities over them only: every route's probability equals the nested logit
  computed here in Python from the world's arrays over the routes feasible for the class (links open to it,
  entries admitting its document by the link's mode), and the infeasible routes are not in the list;
- sampling a route from that list (``_sample`` then the list's entry; ``_sample_refuge``) picks the route the
  full row over all the origin's routes would have picked;
- ``poisson_from_uniform`` decides a count of zero without the exponential when the uniform is clearly below
  ``exp(-lam)``: the same count as the plain inversion for every mean and uniform, at the boundary too.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from emigre.behaviour import exodus
from emigre.behaviour import exodus_kernels as K
from emigre.behaviour.exodus_counts import _sample, _sample_refuge, poisson_from_uniform


@pytest.fixture(scope="module")
def ruleset():
    return exodus.ExodusRuleset(exodus.load_scenario("russia-2022"), seed=0, scale=50.0)


def _feasible(rs, k: int, day: int) -> list[int]:
    """The class's feasible routes (places among its origin's routes), from the definition."""
    cw, pl = rs.cw, rs.paths
    o, dd, sp = rs.class_origin[k], rs.class_doc[k], rs.class_special[k]
    p0, p1 = pl.origin_start[o], pl.origin_start[o + 1]
    out = []
    for p in range(p0, p1):
        ok = True
        for s in range(pl.length[p]):
            lk = pl.links[p, s]
            c = pl.entry[p, s]
            open_ = cw.link_open[day, lk] or (sp == 1 and cw.link_restricted[day, lk])
            admits = c < 0 or (cw.entry_admitted[day, c, dd] and (cw.entry_modes[day, c, dd] >> cw.link_mode[lk]) & 1)
            if not (open_ and admits):
                ok = False
                break
        if ok:
            out.append(p - p0)
    return out


def _nested_logit(rs, k: int, day: int, feas: list[int]) -> np.ndarray:
    """The probabilities of the class's feasible routes on ``day`` with empty queues and no arrivals yet."""
    p, pl = rs.p, rs.paths
    o, dd = rs.class_origin[k], rs.class_doc[k]
    p0 = pl.origin_start[o]
    mu = p["choice_route_scale"]
    bh = p["choice_hours"] * (p["choice_urgency_time_factor"] if rs.class_urgent[k] else 1.0)
    util = {r: (bh * pl.hours[p0 + r] + p["choice_log_cost"] * pl.logcost[p0 + r]
                + p["choice_extra_border"] * (pl.borders[p0 + r] - 1)) / mu for r in feas}
    nests: dict[int, list[int]] = {}
    for r in feas:
        nests.setdefault(int(pl.dest[p0 + r]), []).append(r)
    weight = {}
    for c, rs_ in nests.items():
        ms = rs.cw.entry_max_stay[day, c, dd]
        stay = min(max(float(rs.unknown_stay[c] if ms < 0 else ms), 1.0), 365.0)
        v = rs.dest_static[c] + p["choice_log_stay"] * math.log(stay) + p["choice_network"] * math.log(rs.net_base[c])
        logsum = math.log(sum(math.exp(util[r]) for r in rs_))
        for r in rs_:
            weight[r] = math.exp(v + mu * logsum) * math.exp(util[r]) / math.exp(logsum)
    w = np.array([weight[r] for r in feas])
    return w / w.sum()


def test_choice_tables_are_the_nested_logit_over_each_class_feasible_routes(ruleset):
    rs = ruleset
    day = 230  # after the mobilization: EU entries closed to tourist visas, Georgia by road only
    rs.need[:] = True
    K.choice_tables(day, rs._w, rs._ch, rs._q, rs._prm)
    checked = dropped = 0
    for k in range(0, rs.n_classes, 7):
        feas = _feasible(rs, k, day)
        n = rs.n_feas[k]
        assert rs.feas[k, :n].tolist() == feas, k
        width = rs.paths.origin_start[rs.class_origin[k] + 1] - rs.paths.origin_start[rs.class_origin[k]]
        dropped += width - n
        if not feas:
            assert not rs.class_ok[k]
            continue
        got = np.diff(np.concatenate([[0.0], rs.cum[k, :n]]))
        np.testing.assert_allclose(got, _nested_logit(rs, k, day, feas), rtol=1e-9, atol=1e-15)
        assert rs.cum[k, n - 1] == 1.0
        checked += 1
    assert checked > 30 and dropped > 0  # classes checked; some routes infeasible and left out of the lists


def test_sampling_from_the_feasible_list_picks_what_the_full_row_picks():
    rng = np.random.default_rng(3)
    path_dest = np.repeat(np.arange(6), 4).astype(np.int16)  # 24 routes, 6 destinations in nests of 4
    draft_share = np.array([1.0, 0.3, 1.0, 1.0, 0.0, 1.0])
    for _ in range(200):
        ok = rng.random(24) < 0.5
        ok[rng.integers(24)] = True
        w = np.where(ok, rng.random(24) * 10.0 ** rng.integers(-3, 3, 24), 0.0)
        w[rng.random(24) < 0.1] = 0.0  # feasible routes of weight zero (an underflowed exponential)
        if w.sum() <= 0:
            continue
        full = np.cumsum(w) / w.sum()
        full[-1] = 1.0
        feas = np.flatnonzero(ok).astype(np.int32)
        compact = full[feas]
        compact[-1] = 1.0
        for u in rng.random(20):
            assert feas[_sample(compact, len(feas), u)] == _sample(full, 24, u)
            assert _sample_refuge(compact, feas, len(feas), u, path_dest, 0, draft_share) == \
                _full_refuge(full, u, path_dest, draft_share)


def _full_refuge(cum, u, path_dest, draft_share):
    """The refuge draw over the full row (every route of the origin), from its definition."""
    w = np.diff(np.concatenate([[0.0], cum])) * (draft_share[path_dest] >= 1.0)
    if w.sum() <= 0:
        return -1
    acc = np.cumsum(w)
    hit = np.flatnonzero(acc > u * w.sum())
    return int(hit[0]) if len(hit) else int(np.flatnonzero(w > 0)[-1])


def _plain_poisson(lam: float, u: float) -> int:
    if lam <= 0.0:
        return 0
    p = math.exp(-lam)
    cdf, k = p, 0
    while u > cdf and k < 1000:
        k += 1
        p *= lam / k
        cdf += p
    return k


def test_a_zero_count_decided_without_the_exponential_is_the_inversion_count():
    rng = np.random.default_rng(0)
    lams = np.concatenate([10.0 ** rng.uniform(-17, math.log10(30), 4000), [1e-300, 5e-324, 0.25, 0.5, 29.9]])
    for lam in lams:
        e = math.exp(-lam)
        # uniforms at and around the shortcut's bound and exp(-lam) itself, and anywhere
        bound = 1.0 - 2.0 * lam - 1e-15
        us = [bound, np.nextafter(bound, 0.0), np.nextafter(bound, 1.0), e, np.nextafter(e, 0.0),
              np.nextafter(e, 1.0), rng.random(), 0.0]
        for u in us:
            if 0.0 <= u < 1.0:
                assert poisson_from_uniform(lam, u) == _plain_poisson(lam, u), (lam, u)
