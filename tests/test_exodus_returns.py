"""Temporary leavers (issue 11, timing): a share of the leavers (``return_temporary_share``, drawn once per
traveller) returns at its own rate (mean ``return_temporary_days``) and seeks no permit. Every other way home is
shut (no ordinary return, no onward move, a permit for everyone else at the stay limit), so the returns of a run
are the temporary leavers' alone and their number is known from the arrivals: share x sum over arrival days of
P(exponential stay < days left)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from emigre.behaviour.exodus import simulate
from emigre.behaviour.measures import NAT

END = "2022-08-31"
SCALE = 40.0
# nobody comes back but the temporary leavers; nobody moves on; the stay limit ends in a permit
SHUT = {"return_per_year": 0.0, "return_mobilization_per_year": 0.0, "onward_per_year": 0.0,
        "onward_share_at_limit": 0.0, "regularise_share": 1.0, "visa_run_share": 0.0,
        "unrecognised_permit_share": 1.0, "unrecognised_run_share": 0.0}
RET, RET_CUM = NAT.index("returns"), NAT.index("returned_cum")


def _run(share: float, days: float = 30.0):
    return simulate("russia-2022", seed=11, scale=SCALE, end=END,
                    params={**SHUT, "return_temporary_share": share, "return_temporary_days": days})


@pytest.fixture(scope="module")
def none():
    return _run(0.0)


@pytest.fixture(scope="module")
def some():
    return _run(0.4, 30.0)


def _expected_returns(r, share: float, days: float) -> float:
    """share x sum_j arrivals_j x P(return day <= last day): the return day is arrival + 1 + floor(E), E
    exponential with mean ``days``, so a return by day T needs E < T - j."""
    arr = r.arrivals.sum(axis=1).astype(np.float64)
    left = len(arr) - 1 - np.arange(len(arr))
    return share * float((arr * (1.0 - np.exp(-np.maximum(left, 0) / days))).sum())


def test_no_temporary_leavers_no_returns(none):
    assert none.arrivals.sum() > 5_000
    assert int(none.nat[:, RET].sum()) == 0
    assert int(none.nat[-1, RET_CUM]) == 0


def test_returns_follow_the_share_and_the_mean_stay(some):
    got = float(some.nat[:, RET].sum())
    want = _expected_returns(some, 0.4, 30.0)
    assert want > 2_000
    # binomial noise on ~4,000+ returns (sd ~1.5%) and the day rounding of the stay: 5% tolerance
    assert got == pytest.approx(want, rel=0.05)
    assert int(some.nat[-1, RET_CUM]) == int(got)


def test_the_share_bounds_the_returns(some):
    # with a short mean stay nearly every temporary leaver is home by the end, so the returned share of those
    # who arrived is the share itself; a longer stay leaves more of them abroad on the last day
    short = _run(0.4, 3.0)
    frac_short = float(short.nat[:, RET].sum()) / float(short.arrivals.sum())
    frac_long = float(some.nat[:, RET].sum()) / float(some.arrivals.sum())
    assert frac_long < frac_short
    assert frac_short == pytest.approx(0.4, abs=0.02)


def test_a_temporary_leaver_asks_for_no_permit():
    # everyone temporary with a long stay: nobody seeks a permit on arrival (every seeker would apply) nor gets
    # one at the stay limit (regularise_share 1 for the others); half temporary: the permits roughly halve
    seekers = {"permit_seek_share": 1.0, "permit_seek_share_visa": 1.0, "permit_apply_days": 10}
    everyone = simulate("russia-2022", seed=11, scale=SCALE, end=END,
                        params={**SHUT, **seekers, "return_temporary_share": 1.0, "return_temporary_days": 900})
    assert everyone.arrivals.sum() > 5_000 and int(everyone.regularised.sum()) == 0
    half = simulate("russia-2022", seed=11, scale=SCALE, end=END,
                    params={**SHUT, **seekers, "return_temporary_share": 0.5, "return_temporary_days": 900})
    nobody = simulate("russia-2022", seed=11, scale=SCALE, end=END,
                      params={**SHUT, **seekers, "return_temporary_share": 0.0})
    ratio = half.regularised.sum() / nobody.regularised.sum()
    assert nobody.regularised.sum() > 2_000
    # the seekers are the half that is not temporary (binomial noise on ~2,000+: 5% tolerance)
    assert ratio == pytest.approx(0.5, abs=0.05)


# ---------------------------------------------------------------------- returnees who leave again
CROSS, RETURN = 0, 2  # event kinds of the log (exodus_kernels.EV_CROSS, EV_RETURN)
DEP, DEP_CUM = NAT.index("departures"), NAT.index("departed_cum")
END_AGAIN = "2022-12-31"


def _again(share: float):
    # everyone returns soon (temporary leavers, mean stay 20 days); a returnee leaving again decides within days
    return simulate("russia-2022", seed=5, scale=SCALE, end=END_AGAIN, log_events=400_000,
                    params={**SHUT, "return_temporary_share": 1.0, "return_temporary_days": 20.0,
                            "again_share": share, "again_days": 5.0})


@pytest.fixture(scope="module")
def again():
    return _again(0.35)


def _per_traveller(r):
    """Per traveller slot: its crossings out of Russia and the day of its first return (-1: none)."""
    log = r.log
    n = int(log[:, 1].max()) + 1
    crosses = np.bincount(log[log[:, 2] == CROSS, 1], minlength=n)
    first_ret = np.full(n, -1, dtype=np.int64)
    ret = log[log[:, 2] == RETURN]
    for day, a in zip(ret[::-1, 0], ret[::-1, 1], strict=True):  # reversed: the first return is written last
        first_ret[a] = day
    return crosses, first_ret


def test_no_returnee_leaves_again_at_share_zero():
    r = _again(0.0)
    crosses, _ = _per_traveller(r)
    assert crosses.max() == 1
    assert int(r.nat[:, DEP].sum()) == int(r.nat[-1, DEP_CUM])  # departures = people who left


def test_a_share_of_the_returnees_leaves_again_once_and_is_counted_once(again):
    r = again
    crosses, first_ret = _per_traveller(r)
    n_days = r.nat.shape[0]
    # returnees home 60+ days before the end: time at home (mean 5 days) and the trip out fit many times over
    early = (first_ret >= 0) & (first_ret < n_days - 60)
    assert early.sum() > 3_000
    share = float((crosses[early] == 2).mean())
    sd = math.sqrt(0.35 * 0.65 / early.sum())
    assert share == pytest.approx(0.35, abs=4 * sd + 0.01)  # binomial, plus the few who find no route
    assert crosses.max() == 2  # once only
    # people who left count once; departures count every crossing out
    assert int(r.nat[-1, DEP_CUM]) == int((crosses > 0).sum())
    assert int(r.nat[:, DEP].sum()) == int(crosses.sum())
    # returned_cum counts those at home: every return less those who crossed out again
    assert int(r.nat[-1, RET_CUM]) == int(r.nat[:, RET].sum()) - int((crosses == 2).sum())
    # the stocks add up on every day (a returnee on its way out again is still one who came back)
    col = {m: r.nat[:, NAT.index(m)] for m in NAT}
    assert (col["departed_cum"] == col["abroad"] + col["in_transit"] + col["returned_cum"]).all()
    assert (col["travellers_cum"] == col["leaving"] + col["departed_cum"] + col["stayed_cum"]).all()


def test_a_returnee_leaving_again_leaves_for_good(again):
    # everyone was a temporary leaver on the first trip (the only way home here); the second trip is not a
    # temporary one, so nobody comes back twice (no other return is open)
    crosses, _ = _per_traveller(again)
    log = again.log
    returns = np.bincount(log[log[:, 2] == RETURN, 1], minlength=len(crosses))
    assert (crosses == 2).sum() > 1_000
    assert returns.max() == 1
