"""Numba kernels of the Flee ruleset: who moves today, route choice, travel.

Kernels are plain functions over arrays (agents, places, links, paths).

Who moves: an agent resting at a place moves each day with its place's move chance, independently
from day to day, so the days until it next moves are geometric. Rather than one draw per agent and
day, an agent draws its *wake day* once, when it stops somewhere (:func:`wake_after_stop`), is created
(:func:`place_new_agents`, :func:`fresh_wake`), or its place's move chance changes
(:func:`redraw_wake`); the wait is memoryless, so this is the same process exactly, and each day only
compares wake days with the day. An agent following a planned route wakes the next day (chance 1); an
agent on a link has wake day ``ON_LINK``. A lower bound of the wake days per block of ``BLOCK`` agents
lets the daily scan skip blocks in which nobody wakes.

:func:`select_decide` scans the agents chunk by chunk (in parallel for large populations, with
:func:`select_decide_serial` the same on one thread): each agent whose wake day has come takes the
next hop of its plan or chooses a route, against the counts as the day's decisions began (route
choice through per-place tables, :func:`prepare_choices`), with departures added per chunk afterwards;
movers that leave and agents already on a link go, in id order, to the chunk's segment of the
travellers buffer, so the list comes out in agent order whatever the thread count. :func:`travel`
(arrivals and the re-decisions they allow, with live counts) runs sequentially in agent order, the
order Flee itself processes agents in.

Draw streams: declared in :mod:`emigre.engine.streams` (``STREAM_ROUTE`` the decision phase, ``STREAM_HOP``
+ 2k / + 2k + 1 the k-th move / route draw after arriving somewhere the same day, ``STREAM_SPAWN`` the spawn
location, ``STREAM_WAKE_STOP`` / ``STREAM_WAKE_FRESH`` the waits).
"""

from __future__ import annotations

import math
from collections import namedtuple

import numpy as np
from numba import njit, prange

from emigre.engine.rng import GEOMETRIC_NEVER, day_key, geometric_scaled, uniform_keyed
from emigre.engine.streams import STREAM_HOP, STREAM_ROUTE, STREAM_SPAWN, STREAM_WAKE_FRESH, STREAM_WAKE_STOP

#: wake day of an agent on a link: active every day
ON_LINK = -1
#: agents per block of the wake-day index: ``wake_min[b]`` is at most the smallest wake day of agents
#: ``b*BLOCK .. b*BLOCK+BLOCK-1`` (lowered whenever one is set, made exact when the block is scanned)
BLOCK_SHIFT = 4
BLOCK = 1 << BLOCK_SHIFT
#: streams 0 .. 2*N_KEYED-1 are drawn through per-day keys (a day rarely sees more re-decisions)
N_KEYED = 8

# Kernel arguments come in bundles (namedtuples of arrays and scalars): Numba unboxes them once per call and
# writes through their arrays in place. Field names are the kernels' local names.

#: The agents' arrays (one slot each) and the wake-day bound per block.
Agents = namedtuple(
    "Agents",
    "wake wake_min loc agent_link on_link recent recent_day route route_pos arrived",
)
#: Places, links and paths with their live counts, open flags and rules.
Network = namedtuple(
    "Network",
    "count link_count link_open link_src link_dst link_len path_ptr path_end path_len plink_ptr plink "
    "path_open path_w0 capacity is_camp is_town movechance wait_scale",
)
#: The movement settings of the run.
Rules = namedtuple(
    "Rules",
    "weight_power buffer max_speed walk_speed start_on_foot avoid_short_stints",
)
#: Route-choice tables per place and their staleness bookkeeping.
Tables = namedtuple(
    "Tables",
    "cum total last full_from rev_ptr rev stale",
)
#: The day's travellers list per chunk and the chunks' count deltas.
DayWork = namedtuple(
    "DayWork",
    "travellers counts dplace dlink",
)


@njit(cache=True)
def _draw(keys, seed, i, day, stream):
    """uniform(seed, i, day, stream) through the day's precomputed key when there is one."""
    if stream < keys.shape[0]:
        return uniform_keyed(keys[stream], i)
    return uniform_keyed(day_key(seed, day, stream), i)


@njit(cache=True)
def wake_after_stop(key, i, day, route_i, scale):
    """Wake day of an agent that ends ``day`` at a place (``scale``: its move chance through
    :func:`emigre.engine.rng.geometric_scale`): the next day if it still follows a planned route
    (chance 1), else the first day of a geometric wait (one draw of the stop stream instead of one
    draw per day)."""
    if route_i >= 0:
        return day + 1
    return day + 1 + geometric_scaled(uniform_keyed(key, i), scale)


@njit(cache=True)
def set_wake(wake, wake_min, i, w):
    """Set agent ``i``'s wake day and keep its block's lower bound."""
    wake[i] = w
    b = i >> BLOCK_SHIFT
    if w < wake_min[b]:
        wake_min[b] = w


@njit(cache=True)
def _redraw_range(s, e, key, day, changed, wake, wake_min, link, loc, route, wait_scale):
    for i in range(s, e):
        if link[i] < 0 and route[i] < 0:
            p = loc[i]
            if changed[p]:
                set_wake(wake, wake_min, i, day + geometric_scaled(uniform_keyed(key, i), wait_scale[p]))


@njit(cache=True, parallel=True)
def redraw_wake(n, chunk, seed, day, changed, wake, wake_min, link, loc, route, wait_scale):
    """Agents resting at a place whose move chance changed today draw a new wait from today on (exact:
    the wait is memoryless, and nobody resting has a wake day before today). Agents following a planned
    route keep theirs (they move with chance 1)."""
    key = day_key(seed, day, STREAM_WAKE_FRESH)
    for c in prange((n + chunk - 1) // chunk):
        _redraw_range(c * chunk, min(n, (c + 1) * chunk), key, day, changed, wake, wake_min, link, loc, route,
                      wait_scale)


@njit(cache=True)
def redraw_wake_serial(n, chunk, seed, day, changed, wake, wake_min, link, loc, route, wait_scale):
    """:func:`redraw_wake` on one thread (same output)."""
    _redraw_range(0, n, day_key(seed, day, STREAM_WAKE_FRESH), day, changed, wake, wake_min, link, loc, route,
                  wait_scale)


@njit(cache=True)
def cap_multiplier(place, count, capacity, buffer):
    """1 below ``buffer`` x capacity, 0 at capacity, linear between; 1 when capacity < 1 (unlimited)."""
    cap = capacity[place]
    if cap < 1.0:
        return 1.0
    n = float(count[place])
    if n <= buffer * cap:
        return 1.0
    if n >= cap:
        return 0.0
    return 1.0 - (n - buffer * cap) / (cap * (1.0 - buffer))


@njit(cache=True)
def choose_path(here, u, path_ptr, path_end, path_open, path_w0, weight_power, count, capacity, buffer, scratch):
    """Pick one of the open paths leaving ``here`` in proportion to its weight; uniform if all weights
    are 0; -1 if no path is open. Capacity multipliers use the live counts."""
    s = path_ptr[here]
    e = path_ptr[here + 1]
    total = 0.0
    n_open = 0
    for p in range(s, e):
        if path_open[p]:
            w = path_w0[p] * cap_multiplier(path_end[p], count, capacity, buffer)
            if weight_power != 1.0:
                w = w**weight_power
            scratch[p - s] = w
            total += w
            n_open += 1
        else:
            scratch[p - s] = -1.0
    if n_open == 0:
        return -1
    if total > 0.0:
        target = u * total
        acc = 0.0
        last = -1
        for p in range(s, e):
            w = scratch[p - s]
            if w > 0.0:
                acc += w
                last = p
                if target < acc:
                    return p
        return last  # rounding: u*total can equal the final sum
    j = min(int(u * n_open), n_open - 1)
    for p in range(s, e):
        if scratch[p - s] >= 0.0:
            if j == 0:
                return p
            j -= 1
    return -1


@njit(cache=True)
def prepare_choices(path_ptr, path_end, path_open, path_w0, weight_power, count, capacity, buffer,
                    cum, total, last):
    """Route choice as :func:`choose_path` makes it with the counts as they stand now, for every place at
    once: ``cum`` the running sum of the weights of the open paths with weight > 0 (same order, same
    arithmetic), ``total`` per place and ``last`` the last such path (-1: none). The decision phase
    reads the day-start counts, so one pass per day serves all of its movers."""
    for here in range(path_ptr.shape[0] - 1):
        prepare_place(here, path_ptr, path_end, path_open, path_w0, weight_power, count, capacity, buffer,
                      cum, total, last)


@njit(cache=True)
def prepare_place(here, path_ptr, path_end, path_open, path_w0, weight_power, count, capacity, buffer,
                  cum, total, last):
    """:func:`prepare_choices` for one place."""
    acc = 0.0
    lastp = -1
    for p in range(path_ptr[here], path_ptr[here + 1]):
        if path_open[p]:
            w = path_w0[p] * cap_multiplier(path_end[p], count, capacity, buffer)
            if weight_power != 1.0:
                w = w**weight_power
            if w > 0.0:
                acc += w
                lastp = p
        cum[p] = acc
    total[here] = acc
    last[here] = lastp


@njit(cache=True)
def choose_prepared(here, u, path_ptr, cum, total, last):
    """:func:`choose_path` from :func:`prepare_choices`' tables (the same path for the same counts and
    ``u``); -2 when every weight is 0 (the caller falls back to :func:`choose_path`)."""
    t = total[here]
    if t <= 0.0:
        return -2
    target = u * t
    for p in range(path_ptr[here], path_ptr[here + 1]):
        if target < cum[p]:  # first reached at a path of weight > 0 (cum only grows at those)
            return p
    return last[here]  # rounding: u*total can equal the final sum


@njit(cache=True)
def follow_route(i, here, p, agent_link, on_link, route, route_pos, count, link_open, link_src,
                 path_end, path_len, plink_ptr, plink, capacity, buffer, is_camp):
    """Take the next hop of route ``p`` (already the agent's ``route``); the link, or -1 (plan dropped)."""
    pos = route_pos[i]
    lk = plink[plink_ptr[p] + pos]
    # the next hop must leave from here and be open, else the plan is dropped (Flee's take_next_step)
    if link_src[lk] != here or link_open[lk] == 0:
        route[i] = -1
        return -1
    dest = path_end[p]
    if is_camp[dest] and cap_multiplier(dest, count, capacity, buffer) < 0.5:
        route[i] = -1
        return -1
    if pos + 1 >= path_len[p]:
        route[i] = -1
    else:
        route_pos[i] = pos + 1
    agent_link[i] = lk
    on_link[i] = 0.0
    return lk


@njit(cache=True)
def stays_on_link(i, lk, day, on_link, recent, recent_day, arrived, link_len, max_speed, walk_speed,
                  start_on_foot):
    """Today's travel of an agent on link ``lk`` when it does not reach the end: it only advances (its
    own state, nothing shared), so it needs no place in the ordered travel phase. Returns False, doing
    nothing, when the agent arrives today."""
    speed = walk_speed if start_on_foot and arrived[i] == 0 else max_speed
    ol = on_link[i] + speed
    if ol > link_len[lk]:
        return False
    on_link[i] = ol
    r = recent[i]
    if recent_day[i] != day:
        r = math.ldexp(r, recent_day[i] - day)
    recent[i] = (r + speed / max_speed) / 2.0
    recent_day[i] = day + 1
    return True


@njit(cache=True)
def _select_decide_range(c, s, e, key, stop_key, day, ag, net, rules, tab, work, scratch):
    """Agents ``s..e-1`` (``s`` a multiple of BLOCK), in id order: every agent whose wake day has come
    moves (takes the next hop of its plan or chooses a route). Agents on a link (already, or now) that
    do not reach its end today advance here (:func:`stays_on_link`); those that do are written to
    ``travellers[s:]`` for the travel phase (returns how many). Blocks whose wake bound is after today
    are skipped; a scanned block's bound becomes exact again. Decisions read the counts as they stand
    (route choice through :func:`prepare_choices`' tables); departures go to this chunk's deltas."""
    wake, wake_min, loc, agent_link, on_link = ag.wake, ag.wake_min, ag.loc, ag.agent_link, ag.on_link
    route, route_pos, recent, recent_day = ag.route, ag.route_pos, ag.recent, ag.recent_day
    arrived = ag.arrived
    wait_scale, count, link_open, link_src = net.wait_scale, net.count, net.link_open, net.link_src
    path_ptr, path_end, path_len, plink_ptr = net.path_ptr, net.path_end, net.path_len, net.plink_ptr
    plink, path_open, path_w0, capacity = net.plink, net.path_open, net.path_w0, net.capacity
    is_camp, link_len = net.is_camp, net.link_len
    weight_power, buffer, max_speed = rules.weight_power, rules.buffer, rules.max_speed
    walk_speed, start_on_foot = rules.walk_speed, rules.start_on_foot
    cum, total, last = tab.cum, tab.total, tab.last
    dplace, dlink, travellers = work.dplace, work.dlink, work.travellers
    dplace[c, :] = 0
    dlink[c, :] = 0
    k = s
    for b in range(s >> BLOCK_SHIFT, (e + BLOCK - 1) >> BLOCK_SHIFT):
        if wake_min[b] > day:
            continue
        m = GEOMETRIC_NEVER
        for i in range(b << BLOCK_SHIFT, min(e, (b + 1) << BLOCK_SHIFT)):
            w = wake[i]
            if w > day:
                if w < m:
                    m = w
                continue
            if w == ON_LINK:  # travelling (exactly the agents on a link have this wake day)
                m = ON_LINK
                if not stays_on_link(i, agent_link[i], day, on_link, recent, recent_day, arrived, link_len,
                                     max_speed, walk_speed, start_on_foot):
                    travellers[k] = i
                    k += 1
                continue
            here = loc[i]
            p = route[i]
            lk = -1
            if p < 0:
                u = uniform_keyed(key, i)
                p = choose_prepared(here, u, path_ptr, cum, total, last)
                if p == -2:
                    p = choose_path(here, u, path_ptr, path_end, path_open, path_w0, weight_power, count,
                                    capacity, buffer, scratch)
                if p >= 0:
                    route[i] = p
                    route_pos[i] = 0
            if p >= 0:
                lk = follow_route(i, here, p, agent_link, on_link, route, route_pos, count, link_open,
                                  link_src, path_end, path_len, plink_ptr, plink, capacity, buffer, is_camp)
            if lk >= 0:
                wake[i] = ON_LINK
                m = ON_LINK
                dplace[c, here] -= 1
                dlink[c, lk] += 1
                if not stays_on_link(i, lk, day, on_link, recent, recent_day, arrived, link_len, max_speed,
                                     walk_speed, start_on_foot):
                    travellers[k] = i
                    k += 1
            else:  # stays (no open path, or the plan was dropped): rests from tomorrow on
                w = wake_after_stop(stop_key, i, day, route[i], wait_scale[here])
                wake[i] = w
                if w < m:
                    m = w
        wake_min[b] = m
    return k - s


@njit(cache=True, parallel=True)
def select_decide(seed, day, n, chunk, ag, net, rules, tab, work, scratch):
    """The decision phase, chunks of agents in parallel (:func:`_select_decide_range`): chunk ``c``'s
    travellers that arrive somewhere today, in id order, go to
    ``travellers[c*chunk : c*chunk + counts[c]]``, so the list comes out in agent order whatever the
    thread count. Departures are added once every chunk has decided. (Flee lowers a place's count as
    each agent leaves; during this phase counts only fall, so the difference is confined to agents
    leaving a nearly full camp.)"""
    count, link_count = net.count, net.link_count
    counts, dplace, dlink = work.counts, work.dplace, work.dlink
    key = day_key(seed, day, STREAM_ROUTE)
    stop_key = day_key(seed, day, STREAM_WAKE_STOP)
    nchunks = (n + chunk - 1) // chunk
    for c in prange(nchunks):
        counts[c] = _select_decide_range(c, c * chunk, min(n, (c + 1) * chunk), key, stop_key, day, ag, net,
                                         rules, tab, work, scratch[c])
    _add_deltas(nchunks, count, link_count, dplace, dlink)


@njit(cache=True)
def select_decide_serial(seed, day, n, chunk, ag, net, rules, tab, work, scratch):
    """:func:`select_decide` on one thread (same output): for populations too small to share."""
    count, link_count = net.count, net.link_count
    counts, dplace, dlink = work.counts, work.dplace, work.dlink
    key = day_key(seed, day, STREAM_ROUTE)
    stop_key = day_key(seed, day, STREAM_WAKE_STOP)
    nchunks = (n + chunk - 1) // chunk
    for c in range(nchunks):
        counts[c] = _select_decide_range(c, c * chunk, min(n, (c + 1) * chunk), key, stop_key, day, ag, net,
                                         rules, tab, work, scratch[c])
    _add_deltas(nchunks, count, link_count, dplace, dlink)


@njit(cache=True)
def _add_deltas(nchunks, count, link_count, dplace, dlink):
    for c in range(nchunks):
        for p in range(count.shape[0]):
            count[p] += dplace[c, p]
        for q in range(link_count.shape[0]):
            link_count[q] += dlink[c, q]


@njit(cache=True)
def travel(seed, day, nchunks, chunk, ag, net, rules, tab, work, scratch):
    """Every agent that reaches the end of its link today travels, in agent order (as Flee does):
    arrivals change the live counts that later re-decisions the same day see (agents that only advance
    along a link did so in the decision phase: that changes nothing shared). An agent's state is kept
    in locals for the day and written back once (the rules of :func:`follow_route`). Route choice uses
    :func:`prepare_choices`' tables, made again for a place when a count change could have moved a
    capacity multiplier of its paths (``stale``), so that they always give what :func:`choose_path`
    would with the live counts. An agent that ends the day at a place draws its wake day there."""
    wake, wake_min, loc, agent_link, on_link = ag.wake, ag.wake_min, ag.loc, ag.agent_link, ag.on_link
    recent, recent_day, route, route_pos = ag.recent, ag.recent_day, ag.route, ag.route_pos
    arrived = ag.arrived
    wait_scale, count, link_count, link_open = net.wait_scale, net.count, net.link_count, net.link_open
    link_src, link_dst, link_len, path_ptr = net.link_src, net.link_dst, net.link_len, net.path_ptr
    path_end, path_len, plink_ptr, plink = net.path_end, net.path_len, net.plink_ptr, net.plink
    path_open, path_w0, capacity, is_camp = net.path_open, net.path_w0, net.capacity, net.is_camp
    is_town, movechance = net.is_town, net.movechance
    weight_power, buffer, max_speed = rules.weight_power, rules.buffer, rules.max_speed
    walk_speed, start_on_foot = rules.walk_speed, rules.start_on_foot
    avoid_short_stints = rules.avoid_short_stints
    cum, total, last, full_from, rev_ptr = tab.cum, tab.total, tab.last, tab.full_from, tab.rev_ptr
    rev, stale = tab.rev, tab.stale
    travellers, counts = work.travellers, work.counts
    prepare_choices(path_ptr, path_end, path_open, path_w0, weight_power, count, capacity, buffer,
                    cum, total, last)
    stale[:] = 0
    # per-day keys of the first streams: two mixing rounds per draw instead of four
    keys = np.empty(2 * N_KEYED, dtype=np.uint64)
    for s in range(2 * N_KEYED):
        keys[s] = day_key(seed, day, s)
    stop_key = day_key(seed, day, STREAM_WAKE_STOP)
    for c in range(nchunks):
        base = c * chunk
        for k in range(base, base + counts[c]):
            i = travellers[k]
            lk = agent_link[i]
            # recent travel distance halves every day without travel; catch up lazily
            r = recent[i]
            if recent_day[i] != day:
                r = math.ldexp(r, recent_day[i] - day)
            ol = on_link[i]
            p = route[i]
            walking = start_on_foot and arrived[i] == 0
            here = -1  # the place the agent is at, once it arrives somewhere
            moved = 0.0
            draw = 0
            while True:
                speed = walk_speed if walking else max_speed
                ol += speed
                moved += speed
                length = link_len[lk]
                if ol <= length:
                    break  # still on the link tomorrow
                moved += length - ol
                link_count[lk] -= 1
                walking = False
                if link_open[lk] == 0:
                    # the link closed under the agent: back to where it started, plan dropped
                    here = link_src[lk]
                    lk = -1
                    cnt = count[here] + 1
                    count[here] = cnt
                    if cnt > full_from[here]:  # see below
                        for j in range(rev_ptr[here], rev_ptr[here + 1]):
                            stale[rev[j]] = 1
                    p = -1
                    break
                here = link_dst[lk]
                lk = -1
                cnt = count[here] + 1
                count[here] = cnt
                if cnt > full_from[here]:
                    # the capacity multiplier of ``here`` may have changed (it is 1 up to
                    # full_from = floor(buffer x capacity)), and so may the route tables of every place
                    # with a path ending here
                    for j in range(rev_ptr[here], rev_ptr[here + 1]):
                        stale[rev[j]] = 1
                if moved >= speed:
                    break
                force = False
                if avoid_short_stints and (r + moved / max_speed) / 2.0 < 0.5:
                    force = True
                # moves on with chance 1 when following a plan or passing through a town; the draw (a
                # pure function of its keys, never reused) is only made when the chance is below 1
                if p < 0 and not (force and is_town[here]):
                    mc = movechance[here]
                    if mc < 1.0 and _draw(keys, seed, i, day, STREAM_HOP + 2 * draw) >= mc:
                        break
                stream = STREAM_HOP + 1 + 2 * draw
                draw += 1
                # the next hop of the planned route, else of a new one (follow_route, in locals)
                if p >= 0:
                    pos = route_pos[i]
                else:
                    u = _draw(keys, seed, i, day, stream)
                    if stale[here]:
                        prepare_place(here, path_ptr, path_end, path_open, path_w0, weight_power, count,
                                      capacity, buffer, cum, total, last)
                        stale[here] = 0
                    p = choose_prepared(here, u, path_ptr, cum, total, last)
                    if p == -2:  # every weight 0: uniform among the open paths, or none
                        p = choose_path(here, u, path_ptr, path_end, path_open, path_w0, weight_power, count,
                                        capacity, buffer, scratch)
                    if p < 0:
                        break
                    pos = 0
                nxt = plink[plink_ptr[p] + pos]
                # the next hop must leave from here and be open, else the plan is dropped
                if link_src[nxt] != here or link_open[nxt] == 0:
                    p = -1
                    break
                dest = path_end[p]
                if is_camp[dest] and cap_multiplier(dest, count, capacity, buffer) < 0.5:
                    p = -1
                    break
                if pos + 1 >= path_len[p]:
                    p = -1  # last hop: the plan is done once on it
                else:
                    route_pos[i] = pos + 1
                lk = nxt
                ol = 0.0
                cnt = count[here]
                count[here] = cnt - 1
                if cnt > full_from[here]:  # see above
                    for j in range(rev_ptr[here], rev_ptr[here + 1]):
                        stale[rev[j]] = 1
                link_count[lk] += 1
                here = -1
            agent_link[i] = lk
            on_link[i] = ol
            route[i] = p
            if start_on_foot and not walking:
                arrived[i] = 1
            recent[i] = (r + moved / max_speed) / 2.0
            recent_day[i] = day + 1
            if lk < 0:
                loc[i] = here
                set_wake(wake, wake_min, i, wake_after_stop(stop_key, i, day, p, wait_scale[here]))


@njit(cache=True)
def place_new_agents(seed, day, first_id, n_new, cum_weights, loc, home, wake, wake_min, wait_scale, count):
    """Spawn location of each new agent by inverse CDF of the spawn weights (its own draw), its first
    wake day (from today on), and the place counts."""
    total = cum_weights[-1]
    key = day_key(seed, day, STREAM_SPAWN)
    wkey = day_key(seed, day, STREAM_WAKE_FRESH)
    for j in range(n_new):
        i = first_id + j
        target = uniform_keyed(key, i) * total
        p = np.searchsorted(cum_weights, target, side="right")
        if p >= cum_weights.shape[0]:
            p = cum_weights.shape[0] - 1
        loc[i] = p
        home[i] = p
        set_wake(wake, wake_min, i, day + geometric_scaled(uniform_keyed(wkey, i), wait_scale[p]))
        count[p] += 1


@njit(cache=True)
def fresh_wake(seed, day, start, end, loc, wake, wake_min, wait_scale):
    """First wake day (from ``day`` on) of agents ``start..end-1`` resting where they are."""
    key = day_key(seed, day, STREAM_WAKE_FRESH)
    for i in range(start, end):
        set_wake(wake, wake_min, i, day + geometric_scaled(uniform_keyed(key, i), wait_scale[loc[i]]))
