"""Numba kernels of the exodus ruleset (see :mod:`emigre.behaviour.exodus` for the model).

The kernels are plain functions over arrays. Travellers act only on the days they have something to do: each
sits in one day's bucket (a linked list over ``nxt``), so a traveller settled abroad costs nothing until its
next event (stay limit, return, onward move). Everything runs in one thread in a fixed order, and every draw
is a pure function of (seed, traveller key, day, stream), so a run is reproducible from its seed and paired
runs of two scenarios share their random numbers.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from emigre.behaviour.exodus_bundles import (  # noqa: F401 (the ruleset builds them as K.*)
    Cells,
    Choice,
    Outputs,
    Params,
    Queues,
    Travellers,
    World,
)
from emigre.behaviour.exodus_counts import (  # noqa: F401 (re-exported: the ruleset and tests use K.*)
    _pairwise_sum,
    _sample,
    _sample_refuge,
    count_departures,
    hazard_totals,
    poisson_from_uniform,
)
from emigre.behaviour.exodus_queues import _enqueue, _unqueue, open_capacity, wake_queues  # noqa: F401
from emigre.behaviour.measures import NAT
from emigre.behaviour.measures import STAY_THRESHOLDS as _STAYS
from emigre.engine.rng import uniform
from emigre.engine.streams import (
    S_AGAIN,
    S_CHOICE,
    S_DOC,
    S_DRAFT,
    S_LIMIT,
    S_ONWARD,
    S_ONWARD_DEST,
    S_PATIENCE,
    S_PERMIT,
    S_REASON,
    S_REFUSE,
    S_RETURN,
    S_SCHENGEN,
    S_SPECIAL,
    S_TEMPORARY,
)

# traveller states
LEAVING, TRANSIT, ABROAD, RETURNED, STAYED = 0, 1, 2, 3, 4
# national measures (columns of ``nat``, in the order of the vocabulary, behaviour/measures.py)
N_DEPARTURES, N_RETURNS, N_DEPARTED, N_ABROAD, N_TRANSIT, N_RETURNED, N_LEAVING, N_TRAVELLERS, N_STAYED = (
    NAT.index(m) for m in ("departures", "returns", "departed_cum", "abroad", "in_transit", "returned_cum",
                           "leaving", "travellers_cum", "stayed_cum")
)
N_NAT = len(NAT)
# running counters (``cnt``)
C_LEAVING, C_TRANSIT, C_ABROAD, C_RETURNED, C_STAYED, C_DEPARTED, C_TRAVELLERS = range(7)
# breakdown groups: reason (R), age (5), sex (2), education (2), it (2), document (3)
N_AGE, N_SEX, N_EDU, N_IT, N_DOC = 5, 2, 2, 2, 3
# stay-duration thresholds (days) of the statistical rules (e.g. 183 days, 12 months)
STAY_THRESHOLDS = np.array(_STAYS, dtype=np.int64)
# rows of ``cstat`` [row, day, country]: 0..K-1 stays by arrival day lasting >= STAY_THRESHOLDS[k]; K..2K-1 the
# same by the day the stay ended; 2K entries of emigrants into the country; 2K+1 exits from it
CS_ENTRIES = 2 * len(_STAYS)
CS_EXITS = 2 * len(_STAYS) + 1
# event-log columns (tests): day, key-index, kind, link, country, document, special
EV_CROSS, EV_ENTER, EV_RETURN, EV_VISA_RUN, EV_REGULARISE = 0, 1, 2, 3, 4

# Kernel arguments come in bundles: emigre.behaviour.exodus_bundles.


@njit(cache=True)
def traveller_key(cell, day, k):
    """A traveller's identity for random draws: its cell, decision day and rank that day (not its slot), so
    a scenario that adds or removes travellers elsewhere leaves this one's draws unchanged."""
    return (np.int64(cell) << 40) | (np.int64(day) << 24) | np.int64(k)


@njit(cache=True, inline="always")
def _start_trip(a, day, home, t):
    """``a`` decides today at ``home`` to leave: a trip's fields at their start (a new traveller's, or a
    returnee's who leaves again)."""
    t.state[a] = LEAVING
    t.place[a] = home
    t.path[a] = -1
    t.step[a] = 0
    t.dest[a] = -1
    t.country[a] = 0
    t.decided[a] = day
    t.tries[a] = 0
    t.qlink[a] = -1
    t.exit_link[a] = -1
    t.arrived[a] = -1
    t.limit_day[a] = -1
    t.ret_day[a] = -1
    t.onw_day[a] = -1
    t.regular[a] = 0
    t.departed_day[a] = -1


@njit(cache=True)
def create_travellers(seed, day, counts, prop, intensity, fp_share, sch_share, special_share, n0, t, cl, out):
    """Create today's travellers in slots ``n0...`` (reason by competing hazards ``prop[cell, r] x
    intensity[r, day]``; document; special grounds for the 763-r land exit) and put them in today's bucket,
    writing every field of their slots. Returns the new number of travellers."""
    key, cell, reason, doc, special, place = t.key, t.cell, t.reason, t.doc, t.special, t.place
    nevent, head, nxt, due, ticket, qsince = t.nevent, t.head, t.nxt, t.due, t.ticket, t.qsince
    cell_origin_place, cell_edu = cl.cell_origin_place, cl.cell_edu
    present_place, cnt = out.present_place, out.cnt
    n = n0
    n_reasons = prop.shape[1]
    reason_hazard = np.empty(n_reasons)
    for c in range(counts.shape[0]):
        if counts[c] == 0:
            continue
        total = 0.0
        for r in range(n_reasons):
            reason_hazard[r] = prop[c, r] * intensity[r, day]
            total += reason_hazard[r]
        for k in range(counts[c]):
            a = n
            n += 1
            kk = traveller_key(c, day, k)
            key[a] = kk
            cell[a] = c
            u = uniform(seed, kk, 0, S_REASON) * total
            r = 0
            acc = reason_hazard[0]
            while u >= acc and r < n_reasons - 1:
                r += 1
                acc += reason_hazard[r]
            reason[a] = r
            share = fp_share[1] if cell_edu[c] == 1 else fp_share[0]
            if uniform(seed, kk, 0, S_DOC) >= share:
                doc[a] = 0  # internal passport only
            elif uniform(seed, kk, 0, S_SCHENGEN) < sch_share:
                doc[a] = 2
            else:
                doc[a] = 1
            special[a] = 1 if uniform(seed, kk, 0, S_SPECIAL) < special_share else 0
            _start_trip(a, day, cell_origin_place[c], t)
            nevent[a] = 0
            due[a] = 0
            ticket[a] = 0
            qsince[a] = 0
            t.qprev[a] = -1
            t.qnext[a] = -1
            t.legs[a] = 0
            present_place[place[a]] += 1
            cnt[C_LEAVING] += 1
            cnt[C_TRAVELLERS] += 1
            nxt[a] = head[day]
            head[day] = a
    return n


@njit(cache=True)
def decide(seed, day, scale, stock, prob, prop, intensity, counts, fp_share, sch_share, special_share, n0, t, cl,
           out):
    """The day's ``decide`` step in one call: count the deciders per cell (``count_departures``) and, when the
    travellers' arrays have room for them, create them (``create_travellers``). Returns their number; when
    ``n0 + n`` exceeds the arrays' capacity nothing is created and the caller grows the arrays and calls
    ``create_travellers`` with the same ``counts``."""
    n = count_departures(seed, day, stock, prob, scale, counts)
    if n > 0 and n0 + n <= t.key.shape[0]:
        create_travellers(seed, day, counts, prop, intensity, fp_share, sch_share, special_share, n0, t, cl, out)
    return n


@njit(cache=True)
def mark_choosers(day, head, nxt, state, path, cell, doc, special, reason, cell_origin_idx, reason_urgent,
                  class_index, need):
    """Which classes have a traveller choosing today (only their tables are computed)."""
    need[:] = False
    a = head[day]
    while a != -1:
        if state[a] == LEAVING and path[a] == -1:
            need[class_index[cell_origin_idx[cell[a]], doc[a], special[a], reason_urgent[reason[a]]]] = True
        a = nxt[a]


@njit(cache=True, inline="always")
def _open_to(is_open, restricted, special):
    """Whether a link is open today to a traveller (``special`` grounds 0/1): open, or restricted and the
    traveller has special grounds. With ``_admits``, what the choice's feasibility and the journey both ask of
    each link of a route."""
    return is_open or (special == 1 and restricted)


@njit(cache=True, inline="always")
def _admits(admitted, modes, mode):
    """Whether the country a link enters admits the traveller's document (``admitted``) by the link's ``mode``
    (a bit of ``modes``)."""
    return admitted and ((modes >> mode) & 1) == 1


@njit(cache=True, inline="always")
def _dest_value(static, max_stay, unknown_stay, b_stay, b_net, network):
    """A destination's utility in the route choice and in an onward move: its static terms, the log of the
    stay its entry rule allows (``unknown_stay`` where none is given; 1..365 days) and the log of its network
    (``net_base + scale x arrivals so far``)."""
    stay = min(max(float(unknown_stay if max_stay < 0 else max_stay), 1.0), 365.0)
    return static + b_stay * math.log(stay) + b_net * math.log(network)


@njit(cache=True)
def choice_tables(day, w, ch, q, prm):
    """Per class (origin x document x special grounds x urgency) and day: nested-logit probabilities over the
    feasible (destination, route) pairs of the class's origin, stored as cumulative sums in ``cum`` (each class
    owns the slice of its origin's paths). Destination utility: stay length, language, network pull; route
    utility: hours (queue wait included), log fare, extra borders. A route's feasibility (its links open to the
    class, its entries admitting the class's document by the link's mode) changes only with the rule epoch
    (``w.rule_epoch``), so it is computed once per class and epoch and kept in ``ch.feas``."""
    origin_path_start, path_links, path_len = w.origin_path_start, w.path_links, w.path_len
    path_entry, path_dest, path_hours, path_logcost = w.path_entry, w.path_dest, w.path_hours, w.path_logcost
    path_exit, path_borders, link_open = w.path_exit, w.path_borders, w.link_open
    link_restricted, link_mode, entry_admitted = w.link_restricted, w.link_mode, w.entry_admitted
    entry_modes, entry_max_stay, unknown_stay = w.entry_modes, w.entry_max_stay, w.unknown_stay
    dest_static, net_base, arrivals_cum, scale = w.dest_static, w.net_base, w.arrivals_cum, w.scale
    n_countries = w.n_countries
    n_classes, class_origin, class_doc = ch.n_classes, ch.class_origin, ch.class_doc
    class_special, class_urgent, cum, class_ok = ch.class_special, ch.class_urgent, ch.cum, ch.class_ok
    util, expu, need, feas, n_feas, feas_epoch = ch.util, ch.expu, ch.need, ch.feas, ch.n_feas, ch.feas_epoch
    enq, served, cap_today = q.enq, q.served, q.cap_today
    b_hours, urgency, b_cost, b_stay, b_net = prm.b_hours, prm.urgency, prm.b_cost, prm.b_stay, prm.b_net
    b_border, mu = prm.b_border, prm.mu
    epoch = w.rule_epoch[day]
    wait_h = np.zeros(link_open.shape[1])
    for lk in range(link_open.shape[1]):
        q = enq[lk] - served[lk]
        if q > 0:
            wait_h[lk] = 24.0 * q / max(cap_today[lk] / 1.0, 1e-9)
            if wait_h[lk] > 24.0 * 60:
                wait_h[lk] = 24.0 * 60
    vdest = np.empty((3, n_countries))
    for d in range(3):
        for c in range(n_countries):
            vdest[d, c] = _dest_value(dest_static[c], entry_max_stay[day, c, d], unknown_stay[c], b_stay, b_net,
                                      net_base[c] + scale * arrivals_cum[c])
    for k in range(n_classes):
        if not need[k]:
            class_ok[k] = False
            continue
        o = class_origin[k]
        dd = class_doc[k]
        sp = class_special[k]
        bh = b_hours * (urgency if class_urgent[k] else 1.0)
        p0 = origin_path_start[o]
        p1 = origin_path_start[o + 1]
        if feas_epoch[k] != epoch:
            j = 0
            for p in range(p0, p1):
                ok = True
                for s in range(path_len[p]):
                    lk = path_links[p, s]
                    c = path_entry[p, s]
                    if not _open_to(link_open[day, lk], link_restricted[day, lk], sp) or (
                            c >= 0 and not _admits(entry_admitted[day, c, dd], entry_modes[day, c, dd], link_mode[lk])):
                        ok = False
                        break
                if ok:
                    feas[k, j] = p - p0
                    j += 1
            n_feas[k] = j
            feas_epoch[k] = epoch
        nf = n_feas[k]
        # route utilities (scaled by 1/mu) of the feasible routes
        for j in range(nf):
            p = p0 + feas[k, j]
            h = path_hours[p]
            ex = path_exit[p]
            if ex >= 0:
                h += wait_h[ex]
            util[j] = (bh * h + b_cost * path_logcost[p] + b_border * (path_borders[p] - 1)) / mu
        # nest by destination (paths of an origin are sorted by destination, and so are the feasible ones)
        total = 0.0
        j = 0
        while j < nf:
            c = path_dest[p0 + feas[k, j]]
            i = j
            m = -np.inf
            while i < nf and path_dest[p0 + feas[k, i]] == c:
                if util[i] > m:
                    m = util[i]
                i += 1
            if i == j + 1:
                # a nest of one route: exp(0) = 1 and log(1) = 0 exactly
                expu[j] = 1.0
                s = 1.0
                logsum = m
            else:
                s = 0.0
                for r in range(j, i):
                    expu[r] = math.exp(util[r] - m)
                    s += expu[r]
                logsum = m + math.log(s)
            wd = math.exp(min(vdest[dd, c] + mu * logsum, 700.0))
            for r in range(j, i):
                total += wd * expu[r] / s
                cum[k, r] = total
            j = i
        class_ok[k] = total > 0.0
        if total > 0.0:
            for r in range(nf):
                cum[k, r] /= total


@njit(cache=True)
def choose(day, t, cl, w, ch, q, prm):
    """The day's ``choice`` step in one call: mark the classes with a traveller choosing today and compute
    their tables (none when no class chooses). Returns whether any class chose."""
    mark_choosers(day, t.head, t.nxt, t.state, t.path, t.cell, t.doc, t.special, t.reason, cl.cell_origin_idx,
                  cl.reason_urgent, ch.class_index, ch.need)
    for k in range(ch.need.shape[0]):
        if ch.need[k]:
            choice_tables(day, w, ch, q, prm)
            return True
    return False


@njit(cache=True, inline="always")
def _schedule(a, today, when, n_days, head, nxt, due):
    """Put ``a`` in the bucket of day ``when`` (never today's again: that bucket is being walked)."""
    if when <= today:
        when = today + 1
    due[a] = when
    if when < n_days:
        nxt[a] = head[when]
        head[when] = a


@njit(cache=True, inline="always")
def _log(log, nlog, day, a, kind, link, ctry, dc, sp):
    i = nlog[0]
    if i < log.shape[0]:
        log[i, 0] = day
        log[i, 1] = a
        log[i, 2] = kind
        log[i, 3] = link
        log[i, 4] = ctry
        log[i, 5] = dc
        log[i, 6] = sp
    nlog[0] = i + 1


@njit(cache=True, inline="always")
def _groups(a, cell, reason, doc, cell_age, cell_sex, cell_edu, cell_it, n_reasons, out):
    c = cell[a]
    g = n_reasons
    out[0] = reason[a]
    out[1] = g + cell_age[c]
    g += N_AGE
    out[2] = g + cell_sex[c]
    g += N_SEX
    out[3] = g + (0 if cell_edu[c] == 1 else 1)
    g += N_EDU
    out[4] = g + (0 if cell_it[c] == 1 else 1)
    g += N_IT
    out[5] = g + doc[a]


@njit(cache=True)
def act(seed, day, n_days, t, cl, w, ch, q, prm, out):
    """Everything travellers due today do: choose a route, travel (queues and exit rules at the border),
    arrive, and, abroad, act at their stay limit, move on or return.

    A returnee due again leaves again (``_leave_again``; ``again_share``).

    The traveller helpers it calls (``_travel``, ``_arrive``, ``_onward``, ...) are inlined
    (``inline="always"``): a call into a separately compiled function passes the bundles' ~120 arrays with
    reference counting on each, every call (act -17%, benchmarks/README.md); the cold compile is unchanged."""
    head, nxt, due, key, cell, reason, doc = t.head, t.nxt, t.due, t.key, t.cell, t.reason, t.doc
    special, state, path, step, dest, country = t.special, t.state, t.path, t.step, t.dest, t.country
    tries, limit_day, ret_day, onw_day, regular = t.tries, t.limit_day, t.ret_day, t.onw_day, t.regular
    nevent = t.nevent
    cell_origin_idx, cell_it, reason_urgent = cl.cell_origin_idx, cl.cell_it, cl.reason_urgent
    path_dest, entry_admitted, entry_max_stay = w.path_dest, w.entry_admitted, w.entry_max_stay
    unknown_stay, origin_path_start = w.unknown_stay, w.origin_path_start
    class_index, cum, class_ok, feas, n_feas = ch.class_index, ch.cum, ch.class_ok, ch.feas, ch.n_feas
    regularise_share, visa_run_share, onward_share = prm.regularise_share, prm.visa_run_share, prm.onward_share
    visa_runs, log, nlog, cstat = out.visa_runs, out.log, out.nlog, out.cstat
    gr = np.empty(6, dtype=np.int64)
    wake_queues(day, t, q)
    a = head[day]
    head[day] = -1
    while a != -1:
        nx = nxt[a]
        st = state[a]
        if st == LEAVING or st == TRANSIT:
            if st == TRANSIT and path[a] == -2:
                # end of an onward move
                cstat[CS_ENTRIES, day, dest[a]] += 1
                _arrive(a, day, seed, n_days, t, cl, w, prm, out, gr)
                a = nx
                continue
            if st == LEAVING and path[a] == -1:
                k = class_index[cell_origin_idx[cell[a]], doc[a], special[a], reason_urgent[reason[a]]]
                if not class_ok[k]:
                    _retry_or_give_up(a, day, n_days, t, cl, prm, out)
                    a = nx
                    continue
                o = cell_origin_idx[cell[a]]
                n = n_feas[k]
                u = uniform(seed, key[a], day, S_CHOICE + tries[a])
                r = feas[k, _sample(cum[k], n, u)]
                c = path_dest[origin_path_start[o] + r]
                if (reason_urgent[reason[a]] and w.draft_share[c] < 1.0
                        and uniform(seed, key[a], 0, S_DRAFT) >= w.draft_share[c]):
                    # no refuge from the draft for this traveller (drawn once: day 0): the same draw among the
                    # other destinations
                    r = _sample_refuge(cum[k], feas[k], n, u, path_dest, origin_path_start[o], w.draft_share)
                    if r < 0:
                        _retry_or_give_up(a, day, n_days, t, cl, prm, out)
                        a = nx
                        continue
                path[a] = origin_path_start[o] + r
                step[a] = 0
                dest[a] = path_dest[path[a]]
            _travel(a, day, seed, n_days, t, cl, w, q, prm, out, gr)
        elif st == ABROAD:
            c = country[a]
            ev = nevent[a]
            if ret_day[a] >= 0 and day >= ret_day[a]:
                _return_home(a, day, t, cl, out, gr)
                _again(a, day, seed, n_days, t, prm)
            elif onw_day[a] >= 0 and day >= onw_day[a]:
                if not _onward(a, day, seed, n_days, t, cl, w, prm, out, gr):
                    onw_day[a] = -1
                    _schedule(a, day, _next_event(a, ret_day, onw_day, limit_day), n_days, head, nxt, due)
            elif limit_day[a] >= 0 and day >= limit_day[a] and regular[a] == 2:
                # a permit seeker's application day (see _arrive): the permit, no stay limit any more
                _regularise(a, day, n_days, t, out)
            elif limit_day[a] >= 0 and day >= limit_day[a]:
                u = uniform(seed, key[a], day, S_LIMIT + ev)
                nevent[a] = ev + 1
                # per destination: an unrecognised state grants no permit and a border run there is a trip
                # back into Russia's reach (exodus.py: unrecognised_*)
                reg = regularise_share[c] * (2.0 if cell_it[cell[a]] == 1 else 1.0)
                if _temporary(a, seed, key, t.legs, prm):
                    reg = 0.0  # a temporary leaver asks for no permit: a border run, an onward move or home
                if u < reg:
                    _regularise(a, day, n_days, t, out)
                elif u < reg + (1.0 - reg) * visa_run_share[c] and entry_admitted[day, c, doc[a]]:
                    ms = entry_max_stay[day, c, doc[a]]
                    limit_day[a] = day + (unknown_stay[c] if ms < 0 else ms)
                    visa_runs[day, c] += 1
                    _log(log, nlog, day, a, EV_VISA_RUN, -1, c, doc[a], special[a])
                    _schedule(a, day, _next_event(a, ret_day, onw_day, limit_day), n_days, head, nxt, due)
                elif uniform(seed, key[a], day, S_ONWARD + ev) < onward_share and _onward(a, day, seed, n_days, t, cl, w, prm, out, gr):
                    pass
                else:
                    _return_home(a, day, t, cl, out, gr)
                    _again(a, day, seed, n_days, t, prm)
            else:
                _schedule(a, day, _next_event(a, ret_day, onw_day, limit_day), n_days, head, nxt, due)
        elif st == RETURNED:
            _leave_again(a, day, n_days, t, cl, out)
        a = nx


@njit(cache=True, inline="always")
def _again(a, day, seed, n_days, t, prm):
    """A returnee who will leave again (``prm.again_share`` of those back home for the first time, drawn once
    per traveller): due again after an exponential time at home of mean ``prm.again_days``."""
    if prm.again_share <= 0.0 or t.legs[a] != 1 or uniform(seed, t.key[a], 0, S_AGAIN) >= prm.again_share:
        return
    u = uniform(seed, t.key[a], day, S_AGAIN + 1)
    _schedule(a, day, day + 1 + int(-math.log(1.0 - u) * prm.again_days), n_days, t.head, t.nxt, t.due)


@njit(cache=True, inline="always")
def _leave_again(a, day, n_days, t, cl, out):
    """A returnee leaves again: decided today at home, with its reason, profile and documents; it chooses
    its route tomorrow like a new traveller (``departed_cum`` counts it once, ``departures`` twice). Until it
    crosses the border it is one who came back (``returned_cum``), not one leaving (``leaving``: those who have
    not left yet), so ``departed_cum = abroad + in_transit + returned_cum`` and ``travellers_cum = leaving +
    departed_cum + stayed_cum`` hold whatever ``again_share``."""
    home = cl.cell_origin_place[t.cell[a]]
    _start_trip(a, day, home, t)
    out.present_place[home] += 1  # at home, in the line or on the way to the border: still one who came back
    _schedule(a, day, day + 1, n_days, t.head, t.nxt, t.due)


@njit(cache=True, inline="always")
def _temporary(a, seed, key, legs, prm):
    """Whether traveller ``a`` left to wait and see (``return_temporary_share``; drawn once, day 0); a returnee
    who left again left for good (its second trip is not a temporary one)."""
    return (prm.temporary_share > 0.0 and legs[a] < 2
            and uniform(seed, key[a], 0, S_TEMPORARY) < prm.temporary_share)


@njit(cache=True, inline="always")
def _regularise(a, day, n_days, t, out):
    """``a`` obtains a permit in its country today (counted in ``regularised``: the application; the observation
    model adds the processing time) and has no stay limit any more."""
    c = t.country[a]
    t.regular[a] = 1
    t.limit_day[a] = -1
    out.regularised[day, c] += 1
    _log(out.log, out.nlog, day, a, EV_REGULARISE, -1, c, t.doc[a], t.special[a])
    _schedule(a, day, _next_event(a, t.ret_day, t.onw_day, t.limit_day), n_days, t.head, t.nxt, t.due)


@njit(cache=True, inline="always")
def _next_event(a, ret_day, onw_day, limit_day):
    t = 1 << 30
    if ret_day[a] >= 0:
        t = min(t, ret_day[a])
    if onw_day[a] >= 0:
        t = min(t, onw_day[a])
    if limit_day[a] >= 0:
        t = min(t, limit_day[a])
    return t


@njit(cache=True, inline="always")
def _retry_or_give_up(a, day, n_days, t, cl, prm, out):
    """No feasible route today (or the traveller balked at a queue): try again tomorrow from home, or give
    up and stay in Russia after ``prm.give_up_days``."""
    t.tries[a] += 1
    home = cl.cell_origin_place[t.cell[a]]
    if t.place[a] != home:
        out.present_place[t.place[a]] -= 1
        out.present_place[home] += 1
        t.place[a] = home
    if day - t.decided[a] >= prm.give_up_days:
        _stays_home(a, home, t, out)
        return
    _schedule(a, day, day + 1, n_days, t.head, t.nxt, t.due)


@njit(cache=True, inline="always")
def _stays_home(a, home, t, out):
    """Traveller ``a`` does not leave after all (gave up, or refused exit) and is at ``home``: a returnee who
    could not leave again is back home (still counted as returned), anyone else stayed in Russia."""
    out.present_place[home] -= 1
    if t.legs[a] > 0:
        t.state[a] = RETURNED
    else:
        t.state[a] = STAYED
        out.cnt[C_LEAVING] -= 1
        out.cnt[C_STAYED] += 1


@njit(cache=True, inline="always")
def _travel(a, day, seed, n_days, t, cl, w, q, prm, out, gr):
    hours = 0.0
    p = t.path[a]
    while t.step[a] < w.path_len[p]:
        s = t.step[a]
        lk = w.path_links[p, s]
        c = w.path_entry[p, s]
        ok = _open_to(w.link_open[day, lk], w.link_restricted[day, lk], t.special[a])
        if ok and c >= 0:
            dc = t.doc[a]
            ok = _admits(w.entry_admitted[day, c, dc], w.entry_modes[day, c, dc], w.link_mode[lk])
        if not ok:
            if t.qlink[a] >= 0:
                if t.ticket[a] >= q.served[t.qlink[a]]:
                    q.ghost[t.qlink[a]] += 1
                    _unqueue(a, t.qlink[a], t, q)
                t.qlink[a] = -1
            if t.state[a] == LEAVING:
                t.path[a] = -1
                _retry_or_give_up(a, day, n_days, t, cl, prm, out)
            else:
                # stranded on the way abroad: stay in the country reached
                t.dest[a] = t.country[a]
                _arrive(a, day, seed, n_days, t, cl, w, prm, out, gr)
            return
        if w.link_exit[lk]:
            c_res = cl.cell_reservist[t.cell[a]] == 1
            if c_res and t.qlink[a] != lk:
                refused = False
                if prm.exit_ban_on[day] and uniform(seed, t.key[a], 0, S_REFUSE) < prm.exit_ban_share:
                    refused = True
                if (
                    prm.land_refusal_on[day]
                    and w.link_mode[lk] == 1
                    and uniform(seed, t.key[a], 1, S_REFUSE) < prm.land_refusal_share
                ):
                    refused = True
                if refused:
                    _stays_home(a, t.place[a], t, out)
                    return
            if t.qlink[a] == lk:
                if t.ticket[a] >= q.served[lk]:
                    return  # still waiting (woken by a change of the link or its rules): stays in the queue
                t.qlink[a] = -1
                out.wait_sum[day, lk] += day - t.qsince[a]
            elif q.enq[lk] == q.served[lk] and q.remaining[lk] > 0:
                q.remaining[lk] -= 1
            else:
                # expected wait in days at today's throughput (a link with no capacity: effectively infinite)
                exp_wait = (q.enq[lk] - q.served[lk] + 1) / max(q.cap_n[lk], 0.5)
                patience = -math.log(1.0 - uniform(seed, t.key[a], 0, S_PATIENCE)) * prm.patience_days
                if exp_wait > patience and t.tries[a] < 3:
                    t.path[a] = -1
                    _retry_or_give_up(a, day, n_days, t, cl, prm, out)
                    return
                t.ticket[a] = q.enq[lk]
                q.enq[lk] += 1
                t.qlink[a] = lk
                t.qsince[a] = day
                _enqueue(a, lk, t, q)
                t.due[a] = -1
                return
            # cross the border out of Russia
            out.link_out[day, lk] += 1
            t.state[a] = TRANSIT
            t.exit_link[a] = lk
            t.departed_day[a] = day
            out.cnt[C_TRANSIT] += 1
            if t.legs[a] == 0:  # a person who left counts once; a returnee leaving again is a departure only
                out.cnt[C_LEAVING] -= 1
                out.cnt[C_DEPARTED] += 1
            else:
                out.cnt[C_RETURNED] -= 1
            t.legs[a] += 1
            out.nat[day, N_DEPARTURES] += 1
            _groups(a, t.cell, t.reason, t.doc, cl.cell_age, cl.cell_sex, cl.cell_edu, cl.cell_it, cl.n_reasons, gr)
            for g in gr:
                out.dep_by[day, g] += 1
            _log(out.log, out.nlog, day, a, EV_CROSS, lk, -1, t.doc[a], t.special[a])
        elif w.link_intl[lk]:
            out.link_out[day, lk] += 1
        hours += w.link_hours[lk]
        nxt_place = w.path_next[p, s]
        out.present_place[t.place[a]] -= 1
        out.present_place[nxt_place] += 1
        t.place[a] = nxt_place
        t.step[a] = s + 1
        if c >= 0:
            if t.country[a] != 0:
                out.cstat[CS_EXITS, day, t.country[a]] += 1  # leaving a transit country
            out.cstat[CS_ENTRIES, day, c] += 1
            t.country[a] = c
            _log(out.log, out.nlog, day, a, EV_ENTER, lk, c, t.doc[a], t.special[a])
            if c == t.dest[a]:
                _arrive(a, day, seed, n_days, t, cl, w, prm, out, gr)
                return
        if hours >= 24.0:
            _schedule(a, day, day + int(hours // 24.0), n_days, t.head, t.nxt, t.due)
            return
    # a path always ends on entering its destination; reaching here means an empty path
    _schedule(a, day, day + 1, n_days, t.head, t.nxt, t.due)


@njit(cache=True, inline="always")
def _arrive(a, day, seed, n_days, t, cl, w, prm, out, gr):
    c = t.dest[a]
    t.country[a] = c
    t.state[a] = ABROAD
    out.cnt[C_TRANSIT] -= 1
    out.cnt[C_ABROAD] += 1
    out.present_country[c] += 1
    out.present_cr[c, t.reason[a]] += 1
    out.arrivals_c[day, c] += 1
    w.arrivals_cum[c] += 1
    _groups(a, t.cell, t.reason, t.doc, cl.cell_age, cl.cell_sex, cl.cell_edu, cl.cell_it, cl.n_reasons, gr)
    for g in gr:
        out.abroad_by[g] += 1
    t.arrived[a] = day
    ev = t.nevent[a]
    t.nevent[a] = ev + 1
    ms = w.entry_max_stay[day, c, t.doc[a]]
    t.limit_day[a] = day + (w.unknown_stay[c] if ms < 0 else ms)
    # a temporary leaver (drawn once per traveller) waits abroad: it seeks no permit and returns at its own,
    # faster rate, wherever it arrives (after an onward move too)
    temp = _temporary(a, seed, t.key, t.legs, prm)
    # a permit sought on arrival where the country grants them (twice as likely for IT workers, as at the stay
    # limit): applied for apply_days later, or at the stay limit if that comes first; the pending application
    # takes the stay limit's place (``regular`` 2) and lapses if the traveller leaves before
    t.regular[a] = 0
    seek = 0.0 if temp else prm.seek_share[c] * (2.0 if cl.cell_it[t.cell[a]] == 1 else 1.0)
    if seek > 0.0 and uniform(seed, t.key[a], day, S_PERMIT + ev) < seek:
        t.regular[a] = 2
        t.limit_day[a] = min(t.limit_day[a], day + prm.apply_days)
    rate = prm.return_rate[t.reason[a]]
    if temp:
        rate = max(rate, prm.temporary_rate)
    u = uniform(seed, t.key[a], day, S_RETURN + ev)
    t.ret_day[a] = day + 1 + int(-math.log(1.0 - u) / max(rate, 1e-12)) if rate > 0 else -1
    u = uniform(seed, t.key[a], day, S_ONWARD + ev)
    t.onw_day[a] = day + 1 + int(-math.log(1.0 - u) / max(prm.onward_rate, 1e-12)) if prm.onward_rate > 0 else -1
    _schedule(a, day, _next_event(a, t.ret_day, t.onw_day, t.limit_day), n_days, t.head, t.nxt, t.due)


@njit(cache=True, inline="always")
def _leave_country(a, day, t, cl, out, gr):
    c = t.country[a]
    # completed stay: count it under every duration threshold it reached (statistical-immigrant rules)
    dur = day - t.arrived[a]
    nk = STAY_THRESHOLDS.shape[0]
    for k in range(nk):
        if dur >= STAY_THRESHOLDS[k]:
            out.cstat[k, t.arrived[a], c] += 1
            out.cstat[nk + k, day, c] += 1
    out.cstat[2 * nk + 1, day, c] += 1  # an exit from the country
    out.present_country[c] -= 1
    out.present_cr[c, t.reason[a]] -= 1
    out.cnt[C_ABROAD] -= 1
    _groups(a, t.cell, t.reason, t.doc, cl.cell_age, cl.cell_sex, cl.cell_edu, cl.cell_it, cl.n_reasons, gr)
    for g in gr:
        out.abroad_by[g] -= 1


@njit(cache=True, inline="always")
def _return_home(a, day, t, cl, out, gr):
    _leave_country(a, day, t, cl, out, gr)
    out.present_place[t.place[a]] -= 1
    t.state[a] = RETURNED
    out.cnt[C_RETURNED] += 1
    out.nat[day, N_RETURNS] += 1
    if t.exit_link[a] >= 0:
        out.link_in[day, t.exit_link[a]] += 1
    _log(out.log, out.nlog, day, a, EV_RETURN, t.exit_link[a], t.country[a], t.doc[a], t.special[a])


@njit(cache=True, inline="always")
def _onward(a, day, seed, n_days, t, cl, w, prm, out, gr):
    """Move on from the current country to another one that admits the traveller by air today (logit over
    destinations: the destination terms of the first choice plus flight time and fare). Returns False when
    no country qualifies."""
    # the traveller's once-drawn refuge draw (as at the first choice): urgent travellers for whom an
    # unrecognised state is no refuge do not move on there either
    refuge_u = uniform(seed, t.key[a], 0, S_DRAFT) if cl.reason_urgent[t.reason[a]] == 1 else -1.0
    c0 = t.country[a]
    dc = t.doc[a]
    n_c = w.country_main_place.shape[0]
    total = 0.0
    for c in range(1, n_c):
        w.onward_w[c] = 0.0
        if c == c0 or w.country_main_place[c] < 0 or not w.entry_admitted[day, c, dc]:
            continue
        if (w.entry_modes[day, c, dc] & 1) == 0 or refuge_u >= w.draft_share[c]:
            continue
        v = (_dest_value(w.dest_static[c], w.entry_max_stay[day, c, dc], w.unknown_stay[c], prm.b_stay, prm.b_net,
                         w.net_base[c] + w.scale * w.arrivals_cum[c])
             + prm.b_hours * w.onward_hours[c0, c] + prm.b_cost * w.onward_logcost[c0, c])
        w.onward_w[c] = math.exp(min(v, 700.0))
        total += w.onward_w[c]
    if total <= 0.0:
        return False
    u = uniform(seed, t.key[a], day, S_ONWARD_DEST) * total
    acc = 0.0
    target = -1
    for c in range(1, n_c):
        if w.onward_w[c] > 0.0:
            acc += w.onward_w[c]
            target = c
            if u < acc:
                break
    _leave_country(a, day, t, cl, out, gr)
    out.onward_c[day, c0] += 1
    out.cnt[C_TRANSIT] += 1
    t.state[a] = TRANSIT
    t.path[a] = -2
    t.dest[a] = target
    out.present_place[t.place[a]] -= 1
    t.place[a] = w.country_main_place[target]
    out.present_place[t.place[a]] += 1
    _schedule(a, day, day + 1, n_days, t.head, t.nxt, t.due)
    return True


@njit(cache=True)
def onward_tables(country_lat, country_lon, air_cost_per_km):
    """Per pair of countries (from, to): an onward flight's hours (great-circle km / 750 + 3) and log fare
    (``log(max(km x air_cost_per_km, 1))``), computed once per run for ``_onward``'s choice (what it computed
    per candidate and move before, with the same expressions: the same numbers)."""
    n_c = country_lat.shape[0]
    hours = np.zeros((n_c, n_c))
    logcost = np.zeros((n_c, n_c))
    for c0 in range(n_c):
        for c in range(n_c):
            km = _gc_km(country_lat[c0], country_lon[c0], country_lat[c], country_lon[c])
            hours[c0, c] = km / 750.0 + 3.0
            logcost[c0, c] = math.log(max(km * air_cost_per_km, 1.0))
    return hours, logcost


@njit(cache=True)
def _gc_km(lat1, lon1, lat2, lon2):
    r = math.pi / 180.0
    dlat = (lat2 - lat1) * r
    dlon = (lon2 - lon1) * r
    h = math.sin(dlat / 2) ** 2 + math.cos(lat1 * r) * math.cos(lat2 * r) * math.sin(dlon / 2) ** 2
    return 2.0 * 6371.0 * math.asin(min(1.0, math.sqrt(h)))


@njit(cache=True)
def record(day, cnt, nat, present_place, present_country, present_cr, abroad_by, enq, served, ghost, place_out,
           country_out, cr_out, abroad_out, queue_out):
    """Snapshot today's stocks into the day x ... result arrays."""
    nat[day, N_DEPARTED] = cnt[C_DEPARTED]
    nat[day, N_ABROAD] = cnt[C_ABROAD]
    nat[day, N_TRANSIT] = cnt[C_TRANSIT]
    nat[day, N_RETURNED] = cnt[C_RETURNED]
    nat[day, N_LEAVING] = cnt[C_LEAVING]
    nat[day, N_TRAVELLERS] = cnt[C_TRAVELLERS]
    nat[day, N_STAYED] = cnt[C_STAYED]
    place_out[day, :] = present_place
    country_out[day, :] = present_country
    cr_out[day, :, :] = present_cr
    abroad_out[day, :] = abroad_by
    for lk in range(enq.shape[0]):
        queue_out[day, lk] = enq[lk] - served[lk] - ghost[lk]
