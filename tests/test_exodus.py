"""The exodus ruleset keeps its books and its rules (docs/exodus.md): stock-flow identities, no crossing of a
closed link, no entry the rules forbid, crossings within the throughput, no overstay without a permit,
reproducibility; the first-wave profile; bad input.

One base run (seed SEED, SCALE persons per traveller, full scenario period) is shared by the module. It is
stepped day by day (the engine's own plan) so that the traveller arrays can be checked after every day, which
the result arrays alone cannot show (stay clocks, queued travellers, scheduled events).
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest

import emigre
from emigre.behaviour import exodus_kernels as K
from emigre.behaviour.exodus import ExodusResult, ExodusRuleset, simulate
from emigre.errors import EmigreError, InputError
from emigre.scenario import load_scenario
from emigre.scenario.model import DOCUMENTS, MODES

SEED = 7
SCALE = 20.0
LOG_EVENTS = 400_000
PACKAGED = Path(emigre.__file__).resolve().parent / "data" / "russia-2022"


# ---------------------------------------------------------------------- a run checked after every day
@dataclass
class CheckedRun:
    """A run stepped day by day, with what the per-day checks of the traveller arrays found."""

    result: ExodusResult
    rs: ExodusRuleset
    # (date, count) of days on which the check failed
    overstays: list = field(default_factory=list)  # abroad, no permit here, longer than the stay limit
    lost: list = field(default_factory=list)  # active traveller with no future event (never acts again)
    queue_mismatch: list = field(default_factory=list)  # reported queue != travellers holding a ticket
    bad_onward: list = field(default_factory=list)  # onward move to a country not admitting by air that day
    abroad_checked: int = 0  # traveller-days abroad looked at by the stay check
    onward_checked: int = 0


def run_checked(
    world, *, seed: int = SEED, scale: float = SCALE, end=None, log_events: int = LOG_EVENTS, grace: int = 0
) -> CheckedRun:
    """A run of the one ``simulate()`` with a probe step at the end of every day that checks the traveller
    arrays; ``grace`` days of stay are tolerated beyond the limit (0: a traveller acts on the day its limit is
    reached)."""
    run = CheckedRun(result=None, rs=None)  # type: ignore[arg-type]
    # per slot: day of the last border run, day of the last residence permit; events of the log already read
    book = {"last_run": np.full(0, -1, dtype=np.int64), "permit_day": np.full(0, -1, dtype=np.int64), "seen": 0}

    def probe(rs: ExodusRuleset, day: int) -> None:
        run.rs = rs
        cw = rs.cw
        n_links = len(cw.link_ids)
        air = 1 << MODES.index("air")
        last_run, permit_day, seen = book["last_run"], book["permit_day"], book["seen"]
        n = rs.pop.n
        a = rs.pop.arrays
        if len(last_run) < n:
            grow = max(n, 2 * len(last_run)) - len(last_run)
            last_run = np.concatenate([last_run, np.full(grow, -1, dtype=np.int64)])
            permit_day = np.concatenate([permit_day, np.full(grow, -1, dtype=np.int64)])
        upto = min(int(rs.nlog[0]), len(rs.log))
        new = rs.log[seen:upto]
        seen = upto
        ev = new[new[:, 2] == K.EV_VISA_RUN]
        last_run[ev[:, 1]] = ev[:, 0]
        ev = new[new[:, 2] == K.EV_REGULARISE]
        permit_day[ev[:, 1]] = ev[:, 0]
        date = str(cw.dates[day])
        state = a["state"][:n]

        # stays: since arrival (or the last border run) no longer than the limit of that day, unless a permit
        # was obtained in this country (after arriving in it)
        ab = np.flatnonzero(state == K.ABROAD)
        arrived = a["arrived"][ab].astype(np.int64)
        anchor = np.maximum(arrived, last_run[ab])
        c = a["country"][ab].astype(np.int64)
        dc = a["doc"][ab].astype(np.int64)
        limit = cw.entry_max_stay[anchor, c, dc].astype(np.int64)
        limit = np.where(limit < 0, rs.unknown_stay[c], limit)  # per country (unrecognised states: their own)
        over = (permit_day[ab] < arrived) & (day - anchor >= limit + grace)
        run.abroad_checked += len(ab)
        if over.any():
            run.overstays.append((date, int(over.sum())))

        # every traveller still leaving, in transit or abroad has a future event (a traveller put in today's
        # bucket after the kernel emptied it would never act again); today's bucket is empty
        # or waits in a border queue: in its link's line (woken when served, kernels' wake_queues)
        active = (state == K.LEAVING) | (state == K.TRANSIT) | (state == K.ABROAD)
        ql = a["qlink"][:n]
        waiting = (ql >= 0) & (a["ticket"][:n] >= rs.served[np.maximum(ql, 0)])
        in_line = np.zeros(n, dtype=bool)
        for lk in np.flatnonzero(rs.qhead >= 0):
            x = rs.qhead[lk]
            while x >= 0:
                in_line[x] = True
                x = a["qnext"][x]
        if (waiting != in_line).any():
            run.lost.append((date, -int((waiting != in_line).sum())))
        lost = int((active & ~waiting & (a["due"][:n] <= day)).sum())
        if lost or rs.head[day] != -1:
            run.lost.append((date, lost))

        # the queue of every link is the number of travellers holding a ticket for it
        waiting = (state == K.LEAVING) & (a["qlink"][:n] >= 0)
        holders = np.bincount(a["qlink"][:n][waiting], minlength=n_links)
        if not np.array_equal(holders, rs.queue[day]):
            k = np.flatnonzero(holders != rs.queue[day])
            run.queue_mismatch.append((date, [(cw.link_ids[i], int(holders[i]), int(rs.queue[day, i])) for i in k]))

        # onward moves started today (in transit to a new country, path -2): admitted by air today
        onw = np.flatnonzero((state == K.TRANSIT) & (a["path"][:n] == -2) & (a["due"][:n] == day + 1))
        if len(onw):
            dest = a["dest"][onw].astype(np.int64)
            dcs = a["doc"][onw].astype(np.int64)
            ok = cw.entry_admitted[day, dest, dcs] & ((cw.entry_modes[day, dest, dcs] & air) > 0)
            run.onward_checked += len(onw)
            if not ok.all():
                run.bad_onward.append((date, int((~ok).sum())))
        book["last_run"], book["permit_day"], book["seen"] = last_run, permit_day, seen

    run.result = simulate(world, seed=seed, scale=scale, end=end, log_events=log_events, steps=[("check", probe)])
    return run


def exit_links(cw) -> np.ndarray:
    return cw.link_exit  # the one definition (scenario.world.CompiledWorld)


def day_index(result: ExodusResult, date: str) -> int:
    i = np.flatnonzero(result.dates == np.datetime64(date))
    assert len(i) == 1, date
    return int(i[0])


def copy_scenario(tmp: Path) -> Path:
    dst = tmp / "russia-2022"
    shutil.copytree(PACKAGED, dst)
    return dst


@pytest.fixture(scope="module")
def base() -> CheckedRun:
    return run_checked(load_scenario("russia-2022"))


@pytest.fixture(scope="module")
def res(base) -> ExodusResult:
    return base.result


@pytest.fixture(scope="module")
def cw(res):
    """The world compiled independently of the run, for the rules the run must obey."""
    w = load_scenario("russia-2022").compile(end=str(res.dates[-1]))
    assert w.link_ids == res.link_ids and w.countries == res.countries and len(w.dates) == len(res.dates)
    return w


def test_base_run_is_substantial(res):
    # the invariants below mean something only on a run with many travellers and events of every kind
    assert res.travellers * res.scale > 200_000
    assert res.nat[-1, K.N_DEPARTED] > 5_000
    assert res.log is not None and len(res.log) > 10_000
    kinds = np.bincount(res.log[:, 2], minlength=5)
    assert (kinds > 100).all(), dict(zip(("cross", "enter", "return", "visa_run", "regularise"), kinds.tolist(), strict=True))


# ---------------------------------------------------------------------- 1-2 stock-flow identities
def test_departed_equals_abroad_plus_transit_plus_returned_every_day(res):
    n = res.nat
    lhs = n[:, K.N_DEPARTED]
    rhs = n[:, K.N_ABROAD] + n[:, K.N_TRANSIT] + n[:, K.N_RETURNED]
    bad = np.flatnonzero(lhs != rhs)
    assert len(bad) == 0, [(str(res.dates[i]), int(lhs[i]), int(rhs[i])) for i in bad[:5]]
    # the persons view says the same
    np.testing.assert_array_equal(
        res.national("departed_cum"),
        res.national("abroad") + res.national("in_transit") + res.national("returned_cum"),
    )


def test_travellers_equal_leaving_plus_departed_plus_stayed_every_day(res):
    n = res.nat
    lhs = n[:, K.N_TRAVELLERS]
    rhs = n[:, K.N_LEAVING] + n[:, K.N_DEPARTED] + n[:, K.N_STAYED]
    bad = np.flatnonzero(lhs != rhs)
    assert len(bad) == 0, [(str(res.dates[i]), int(lhs[i]), int(rhs[i])) for i in bad[:5]]
    assert n[-1, K.N_TRAVELLERS] == res.travellers
    assert (np.diff(n[:, K.N_TRAVELLERS]) >= 0).all() and (np.diff(n[:, K.N_STAYED]) >= 0).all()


def test_daily_flows_are_the_increments_of_the_stocks(res):
    n = res.nat
    np.testing.assert_array_equal(np.cumsum(n[:, K.N_DEPARTURES]), n[:, K.N_DEPARTED])
    np.testing.assert_array_equal(np.cumsum(n[:, K.N_RETURNS]), n[:, K.N_RETURNED])
    x = res.log[res.log[:, 2] == K.EV_CROSS]
    np.testing.assert_array_equal(np.bincount(x[:, 0], minlength=len(res.dates)), n[:, K.N_DEPARTURES])
    x = res.log[res.log[:, 2] == K.EV_RETURN]
    np.testing.assert_array_equal(np.bincount(x[:, 0], minlength=len(res.dates)), n[:, K.N_RETURNS])


def test_breakdowns_add_up_to_the_national_series(res):
    sizes = [len(res.reasons), 5, 2, 2, 2, len(DOCUMENTS)]  # reason, age, sex, education, IT, document
    g = 0
    for size in sizes:
        np.testing.assert_array_equal(res.dep_by[:, g : g + size].sum(axis=1), res.nat[:, K.N_DEPARTURES])
        np.testing.assert_array_equal(res.abroad_by[:, g : g + size].sum(axis=1), res.nat[:, K.N_ABROAD])
        g += size
    assert g == len(res.groups)
    np.testing.assert_array_equal(res.present_country.sum(axis=1), res.nat[:, K.N_ABROAD])
    np.testing.assert_array_equal(res.present_cr.sum(axis=2), res.present_country)
    assert res.present_country.min() >= 0 and res.present_cr.min() >= 0 and res.present_place.min() >= 0
    frame = res.to_frame()
    last = frame[(frame.date == frame.date.max()) & (frame.place == "ALL") & (frame.group == "")]
    assert float(last.loc[last.measure == "abroad", "value"].iloc[0]) == res.nat[-1, K.N_ABROAD] * SCALE


# ---------------------------------------------------------------------- 3 closed links
def test_nobody_crosses_a_closed_link(res, cw):
    log = res.log
    ev = log[np.isin(log[:, 2], [K.EV_CROSS, K.EV_ENTER])]
    d, lk, special = ev[:, 0], ev[:, 3], ev[:, 6]
    assert (lk >= 0).all()
    ok = cw.link_open[d, lk] | (cw.link_restricted[d, lk] & (special == 1))
    bad = np.flatnonzero(~ok)
    assert len(bad) == 0, [(str(res.dates[d[i]]), res.link_ids[lk[i]], int(special[i])) for i in bad[:5]]
    # restricted links were used, and only by travellers with special grounds
    on_restricted = cw.link_restricted[d, lk]
    assert on_restricted.sum() > 50
    assert (special[on_restricted] == 1).all()
    # no crossing recorded on a day a link is neither open nor restricted
    shut = ~(cw.link_open | cw.link_restricted)
    assert shut.any()
    assert int(res.link_out[shut].sum()) == 0
    assert int(res.queue[shut].sum()) == 0


# ---------------------------------------------------------------------- 4 entry rules
def test_nobody_enters_where_the_rules_forbid(res, cw):
    en = res.log[res.log[:, 2] == K.EV_ENTER]
    d, lk, c, doc = en[:, 0], en[:, 3], en[:, 4], en[:, 5]
    admitted = cw.entry_admitted[d, c, doc]
    by_mode = ((cw.entry_modes[d, c, doc] >> cw.link_mode[lk]) & 1) == 1
    bad = np.flatnonzero(~(admitted & by_mode))
    assert len(bad) == 0, [
        (str(res.dates[d[i]]), res.countries[c[i]], DOCUMENTS[doc[i]], res.link_ids[lk[i]]) for i in bad[:5]
    ]
    # border runs only where the country still admits the document that day
    vr = res.log[res.log[:, 2] == K.EV_VISA_RUN]
    assert cw.entry_admitted[vr[:, 0], vr[:, 4], vr[:, 5]].all()


def test_onward_moves_go_only_where_the_traveller_is_admitted_by_air(base):
    assert base.onward_checked > 100
    assert base.bad_onward == []


def test_internal_passport_holders_enter_only_eaeu_armenia_by_air_and_breakaway_regions(res, cw):
    en = res.log[(res.log[:, 2] == K.EV_ENTER) & (res.log[:, 5] == DOCUMENTS.index("internal_passport"))]
    assert len(en) > 1000
    entered = {res.countries[c] for c in np.unique(en[:, 4])}
    assert entered <= {"KAZ", "KGZ", "ARM", "BLR", "XAB", "XSO"}, entered
    assert {"KAZ", "ARM"} <= entered
    arm = en[en[:, 4] == res.countries.index("ARM")]
    assert len(arm) > 0
    assert {MODES[m] for m in cw.link_mode[arm[:, 3]]} == {"air"}


# ---------------------------------------------------------------------- 5 throughput and queues
def test_crossings_never_exceed_the_throughput(res, cw):
    ex = exit_links(cw)
    cap = res.capacity / res.scale  # travellers per day
    out = res.link_out
    # the kernel's whole travellers per day: the integer part, plus one on the days the carried fraction
    # completes a traveller (floor((d + 1) f) - floor(d f)); never more than ceil(capacity / scale)
    days = np.arange(len(res.dates))[:, None]
    whole = np.floor(cap)
    frac = cap - whole
    per_day = whole + ((np.floor((days + 1) * frac) - np.floor(days * frac)) > 0)
    assert (per_day <= np.ceil(cap)).all()
    over = ex[None, :] & (out > per_day)
    bad = np.argwhere(over)
    assert len(bad) == 0, [(str(res.dates[i]), res.link_ids[k], int(out[i, k]), cap[i, k]) for i, k in bad[:5]]
    assert (out[:, ex] <= np.ceil(cap[:, ex])).all()
    # an exit link without throughput today carries nobody
    assert int(out[:, ex][cap[:, ex] == 0].sum()) == 0
    # over any 30 days, crossings stay within the throughput of those days (no borrowing from other days)
    cum_out = np.cumsum(out[:, ex], axis=0)
    cum_cap = np.cumsum(per_day[:, ex], axis=0)
    assert ((cum_out[30:] - cum_out[:-30]) <= (cum_cap[30:] - cum_cap[:-30])).all()
    # the crossings out of Russia are the logged departures, link by link
    x = res.log[res.log[:, 2] == K.EV_CROSS]
    per_link = np.zeros_like(out)
    np.add.at(per_link, (x[:, 0], x[:, 3]), 1)
    np.testing.assert_array_equal(per_link[:, ex], out[:, ex])
    assert int(per_link[:, ~ex].sum()) == 0
    # queues formed somewhere and were served: binding capacity is exercised
    assert res.queue.max() > 5
    assert int(res.wait_sum.sum()) > 0


def test_queues_are_never_negative_and_count_the_ticket_holders(base, res):
    assert res.queue.min() >= 0
    assert res.wait_sum.min() >= 0
    assert base.queue_mismatch == [], base.queue_mismatch[:3]


# ---------------------------------------------------------------------- 6 stay limits
def test_no_stay_exceeds_its_limit_without_a_permit(base, res):
    assert base.abroad_checked > 1_000_000
    assert base.overstays == [], base.overstays[:5]
    # the limit was reached often, and handled by every means
    assert int(res.visa_runs.sum()) > 500 and int(res.regularised.sum()) > 500 and int(res.onward.sum()) > 100


def test_no_traveller_is_dropped_from_the_schedule(base):
    assert base.lost == [], base.lost[:5]


@pytest.mark.parametrize("how", ["entry_rules.csv", "param"])
def test_a_zero_day_stay_limit_loses_no_traveller(tmp_path, how):
    """A stay limit of 0 days - ``max_stay_days`` 0 in entry_rules.csv (the loader accepts it) or
    ``unknown_stay_limit_days`` 0 for the countries without a known limit - must be rejected as input or
    handled: a traveller at its limit acts at once (permit, border run, onward, return); it must not be left
    abroad for ever, off the schedule."""
    zero = {"KGZ", "UZB", "TJK", "BLR", "XAB", "XSO"}  # the countries without a known limit
    try:
        if how == "param":
            world = load_scenario("russia-2022", params={"unknown_stay_limit_days": 0})
        else:
            d = copy_scenario(tmp_path)
            path = d / "entry_rules.csv"
            rows = list(csv.reader(path.open(encoding="utf-8")))
            ci, si = rows[0].index("country"), rows[0].index("max_stay_days")
            for row in rows[1:]:
                if row and row[ci] in zero:
                    assert row[si] == "", row
                    row[si] = "0"
            with path.open("w", newline="", encoding="utf-8") as f:
                csv.writer(f).writerows(rows)
            world = load_scenario(d)
            # the rules with a zero-day limit are kept (not silently dropped)
            c = world.compile(end="2022-06-30")
            for iso in zero:
                ci = c.countries.index(iso)
                kept = c.entry_admitted[0, ci, :]
                assert kept.any(), f"{iso}: no document admitted any more (rules dropped?)"
                assert (c.entry_max_stay[0, ci, kept] == 0).all(), (iso, c.entry_max_stay[0, ci, :].tolist())
    except EmigreError as e:  # rejecting a zero-day limit is a fine answer too
        assert "max_stay_days" in str(e) or "unknown_stay_limit_days" in str(e), str(e)
        return
    # acting on the day of arrival or the day after is fine for a zero-day limit
    run = run_checked(world, end="2022-06-30", log_events=200_000, grace=1)
    idx = [run.result.countries.index(c) for c in sorted(zero)]
    assert int(run.result.arrivals[:, idx].sum()) > 50
    assert run.lost == [], f"travellers never scheduled again (date, count): {run.lost[:5]}"
    assert run.overstays == [], run.overstays[:5]


# ---------------------------------------------------------------------- 7 reproducibility
def _fingerprint(r: ExodusResult) -> dict:
    s = {k: v for k, v in r.summary().items() if k != "seconds"}
    h = hashlib.sha256()
    for name in ("nat", "dep_by", "abroad_by", "present_country", "link_out", "link_in", "queue", "wait_sum",
                 "visa_runs", "regularised", "onward"):
        h.update(np.ascontiguousarray(getattr(r, name), dtype=np.int64).tobytes())
    s["arrays_sha256"] = h.hexdigest()
    return s


def test_same_seed_gives_the_same_run(res):
    again = simulate("russia-2022", seed=SEED, scale=SCALE, log_events=LOG_EVENTS)
    a, b = res.to_frame(), again.to_frame()
    assert len(a) > 10_000
    assert a.equals(b)
    np.testing.assert_array_equal(res.log, again.log)
    assert _fingerprint(res) == _fingerprint(again)


@pytest.fixture(scope="module")
def run_2022() -> ExodusResult:
    return simulate("russia-2022", seed=SEED, scale=SCALE, end="2022-12-31")


def test_different_seeds_give_different_runs_of_the_same_size(run_2022):
    a = run_2022
    b = simulate("russia-2022", seed=SEED + 1, scale=SCALE, end="2022-12-31")
    assert not a.to_frame().equals(b.to_frame())
    assert not np.array_equal(a.nat, b.nat)
    # the same model: totals agree to within 5% (each run has tens of thousands of travellers)
    da, db = a.nat[-1, K.N_DEPARTED], b.nat[-1, K.N_DEPARTED]
    assert abs(da - db) / da < 0.05, (da, db)


def test_a_shorter_run_is_the_start_of_a_longer_one(res, run_2022):
    # nothing looks ahead: the run ending on 31 Dec 2022 is the first part of the full-period run
    k = len(run_2022.dates)
    assert str(run_2022.dates[-1]) == "2022-12-31" and len(res.dates) > k
    for name in ("nat", "dep_by", "link_out", "link_in", "queue", "present_country", "arrivals"):
        np.testing.assert_array_equal(getattr(run_2022, name), getattr(res, name)[:k], err_msg=name)


def test_numba_thread_count_does_not_matter(run_2022):
    here = _fingerprint(run_2022)
    code = (
        "import json, sys\n"
        f"sys.path.insert(0, {str(Path(__file__).resolve().parent)!r})\n"
        "from test_exodus import _fingerprint\n"
        "from emigre.behaviour.exodus import simulate\n"
        f"print(json.dumps(_fingerprint(simulate('russia-2022', seed={SEED}, scale={SCALE}, end='2022-12-31'))))\n"
    )
    env = dict(os.environ, NUMBA_NUM_THREADS="1")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    there = json.loads(out.stdout.strip().splitlines()[-1])
    assert there == here


# ---------------------------------------------------------------------- 11 first wave
def test_first_wave_is_young_educated_and_it_heavy(res):
    d = res.dates
    wave = (d >= np.datetime64("2022-02-24")) & (d <= np.datetime64("2022-04-30"))
    dep = res.dep_by[wave].sum(axis=0).astype(float)
    total = res.nat[wave, K.N_DEPARTURES].sum()
    assert total * SCALE > 50_000
    share = {g: dep[i] / total for i, g in enumerate(res.groups)}
    assert share["education=higher"] > 0.60, share["education=higher"]
    assert share["it=yes"] > 0.15, share["it=yes"]
    ages = {g: share[g] for g in res.groups if g.startswith("age=")}
    assert max(ages, key=ages.get) == "age=25-34", ages
    assert share["reason=mobilization"] == 0.0


# ---------------------------------------------------------------------- 12 bad input
def test_an_unknown_parameter_is_rejected_by_name():
    with pytest.raises(EmigreError, match="no_such_param"):
        simulate(params={"no_such_param": 1}, scale=50, end="2022-03-01")


def test_a_negative_population_count_names_file_line_and_column(tmp_path):
    d = copy_scenario(tmp_path)
    path = d / "population.csv"
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    assert lines[3].startswith("25-34,male,")
    parts = lines[3].split(",")
    parts[2] = "-10300000"
    lines[3] = ",".join(parts)
    path.write_text("".join(lines), encoding="utf-8")
    with pytest.raises(InputError) as info:
        simulate(d, scale=50, end="2022-03-01")
    e = info.value
    assert e.file is not None and Path(e.file).name == "population.csv"
    assert e.line == 4
    assert e.column == "persons"
    text = str(e)
    assert "population.csv" in text and "line 4" in text and "column persons" in text and "-10300000" in text
