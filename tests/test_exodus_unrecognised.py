"""Abkhazia and South Ossetia (destinations.csv status ``unrecognised``): short stays within Russia's reach and
no refuge from the draft (issue 11). Each case sets the parameters so that the answer is known exactly."""

from __future__ import annotations

import numpy as np
import pytest

from emigre.behaviour.exodus import simulate

UNREC = ("XAB",)  # South Ossetia has no road or flight in russia-2022's links.csv: nobody arrives there
END = "2022-12-31"
SCALE = 50.0


def _run(**params):
    # unrecognised states made attractive, so that many go there and the rules below are exercised
    return simulate("russia-2022", seed=4, scale=SCALE, end=END, params={"choice_unrecognised_state": 2.0, **params})


@pytest.fixture(scope="module")
def short():
    # a 5-day stay, no permit, no border run, every draft-fleeing traveller may go there
    return _run(unrecognised_stay_days=5, unrecognised_permit_share=0.0, unrecognised_run_share=0.0,
                unrecognised_draft_share=1.0)


def test_a_stay_in_an_unrecognised_state_ends_at_its_own_limit_without_permit_or_border_run(short):
    r = short
    stay = 5
    for iso in UNREC:
        k = r.countries.index(iso)
        arr = r.arrivals[:, k].astype(np.int64)
        assert arr.sum() > 50, iso
        assert int(r.regularised[:, k].sum()) == 0 and int(r.visa_runs[:, k].sum()) == 0, iso
        # everyone present at the end of a day arrived within the last `stay` days (returns and onward moves
        # before the limit only lower the count)
        window = np.convolve(arr, np.ones(stay, dtype=np.int64))[: len(arr)]
        assert (r.present_country[:, k] <= window).all(), iso
    # elsewhere the stay limits still end in permits and border runs
    assert int(r.regularised.sum()) > 100 and int(r.visa_runs.sum()) > 100


def test_the_per_destination_shares_act_at_the_limit():
    r = _run(unrecognised_stay_days=5, unrecognised_permit_share=1.0, unrecognised_run_share=0.0,
             unrecognised_draft_share=1.0)
    k = r.countries.index("XAB")
    # everyone at the limit gets a permit: permits, no border run, and they stay on
    assert int(r.regularised[:, k].sum()) > 20 and int(r.visa_runs[:, k].sum()) == 0
    r = _run(unrecognised_stay_days=5, unrecognised_permit_share=0.0, unrecognised_run_share=1.0,
             unrecognised_draft_share=1.0)
    assert int(r.visa_runs[:, k].sum()) > 20 and int(r.regularised[:, k].sum()) == 0


def test_no_draft_fleeing_traveller_takes_refuge_where_none_is_found(short):
    none = _run(unrecognised_draft_share=0.0)
    mob = short.reasons.index("mobilization")
    for iso in UNREC:
        k = short.countries.index(iso)
        assert int(short.present_cr[:, k, mob].max()) > 100  # with the refuge open, they go there
        assert int(none.present_cr[:, k, mob].max()) == 0, iso  # with none, nobody fleeing the draft does
    # they go elsewhere instead (few have no other way out)
    dep = lambda r: float(r.national("departed_cum")[-1])  # noqa: E731
    assert dep(none) >= 0.97 * dep(_run(unrecognised_draft_share=1.0))
