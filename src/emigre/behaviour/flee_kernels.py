"""Numba kernels of the Flee ruleset: who is active today, route choice, travel.

Kernels are plain functions over arrays (agents, places, links, paths). :func:`select_active` writes
each chunk of agents into its own segment of a buffer, so the list of active agents comes out in agent
order whatever the thread count; :func:`decide` runs the chunks in parallel against the day-start counts
and adds per-chunk departures afterwards; :func:`travel` (arrivals and the re-decisions they allow, with
live counts) runs sequentially in agent order, the order Flee itself processes agents in. Draw streams: 0 = first move draw of the day,
1 = first route draw, 2 + 2k / 3 + 2k = the k-th move / route draw after arriving somewhere the same day.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

from emigre.engine.rng import day_key, uniform_keyed

STREAM_MOVE = 0
STREAM_ROUTE = 1
STREAM_SPAWN = 1_000_003
#: streams 0 .. 2*N_KEYED-1 are drawn through per-day keys (a day rarely sees more re-decisions)
N_KEYED = 8


@njit(cache=True, inline="always")
def _draw(keys, seed, i, day, stream):
    """uniform(seed, i, day, stream) through the day's precomputed key when there is one."""
    if stream < keys.shape[0]:
        return uniform_keyed(keys[stream], i)
    return uniform_keyed(day_key(seed, day, stream), i)


@njit(cache=True, parallel=True)
def select_active(n, chunk, link, loc, route, movechance, seed, day, active, is_mover, counts):
    """Mark travelling agents and agents that decide to move today (stream 0), chunk by chunk.

    Chunk ``c`` writes its active agents, in id order, to ``active[c*chunk : c*chunk + counts[c]]``.
    An agent still following a planned route moves with chance 1 (Flee 3 at the suite's commit).
    """
    nchunks = (n + chunk - 1) // chunk
    key = day_key(seed, day, STREAM_MOVE)
    for c in prange(nchunks):
        s = c * chunk
        e = min(n, s + chunk)
        k = s
        for i in range(s, e):
            if link[i] >= 0:
                active[k] = i
                is_mover[k] = 0
                k += 1
            elif route[i] >= 0 or uniform_keyed(key, i) < movechance[loc[i]]:
                active[k] = i
                is_mover[k] = 1
                k += 1
        counts[c] = k - s


@njit(cache=True, inline="always")
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


@njit(cache=True, inline="always")
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
def start_move(
    i, here, u, agent_link, on_link, route, route_pos, count, link_open, link_src,
    path_ptr, path_end, path_len, plink_ptr, plink, path_open, path_w0, weight_power,
    capacity, buffer, is_camp, scratch,
):
    """Flee's decision once an agent moves: take the next hop of its planned route, or choose a new
    route first. Returns the link the agent is now on, or -1. The caller moves the agent out of the
    place's count and onto the link's (live, or through per-chunk deltas in the parallel phase)."""
    p = route[i]
    if p < 0:
        p = choose_path(here, u, path_ptr, path_end, path_open, path_w0, weight_power, count, capacity,
                        buffer, scratch)
        if p < 0:
            return -1
        route[i] = p
        route_pos[i] = 0
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


@njit(cache=True, parallel=True)
def decide(
    seed, day, nchunks, chunk, active, is_mover, counts, loc, agent_link, on_link, route, route_pos,
    count, link_count, link_open, link_src,
    path_ptr, path_end, path_len, plink_ptr, plink, path_open, path_w0, weight_power,
    capacity, buffer, is_camp, scratch, dplace, dlink,
):
    """Every mover of the day takes its next hop or chooses a route, chunks in parallel.

    Decisions read the counts as they stand at the start of the phase; departures are collected per
    chunk and added afterwards. (Flee lowers a place's count as each agent leaves; during this phase
    counts only fall, so the difference is confined to agents leaving a nearly full camp.)
    """
    key = day_key(seed, day, STREAM_ROUTE)
    for c in prange(nchunks):
        dplace[c, :] = 0
        dlink[c, :] = 0
        base = c * chunk
        for k in range(base, base + counts[c]):
            if is_mover[k]:
                i = active[k]
                here = loc[i]
                lk = start_move(i, here, uniform_keyed(key, i), agent_link, on_link, route, route_pos,
                                count, link_open, link_src, path_ptr, path_end, path_len, plink_ptr, plink,
                                path_open, path_w0, weight_power, capacity, buffer, is_camp, scratch[c])
                if lk >= 0:
                    dplace[c, here] -= 1
                    dlink[c, lk] += 1
    for c in range(nchunks):
        for p in range(count.shape[0]):
            count[p] += dplace[c, p]
        for q in range(link_count.shape[0]):
            link_count[q] += dlink[c, q]


@njit(cache=True)
def travel(
    seed, day, nchunks, chunk, active, counts,
    loc, agent_link, on_link, recent, recent_day, route, route_pos, arrived,
    count, link_count, link_open, link_src, link_dst, link_len,
    path_ptr, path_end, path_len, plink_ptr, plink, path_open, path_w0, weight_power,
    capacity, buffer, is_camp, is_town, movechance,
    max_speed, walk_speed, start_on_foot, avoid_short_stints, scratch,
):
    """Every agent on a link travels, in agent order (as Flee does): arrivals change the live counts
    that later re-decisions the same day see."""
    # per-day keys of the first streams: two mixing rounds per draw instead of four
    keys = np.empty(2 * N_KEYED, dtype=np.uint64)
    for s in range(2 * N_KEYED):
        keys[s] = day_key(seed, day, s)
    for c in range(nchunks):
        base = c * chunk
        for k in range(base, base + counts[c]):
            i = active[k]
            if agent_link[i] < 0:
                continue
            # recent travel distance halves every day without travel; catch up lazily
            r = math.ldexp(recent[i], recent_day[i] - day)
            moved = 0.0
            draw = 0
            while True:
                speed = max_speed
                if start_on_foot and arrived[i] == 0:
                    speed = walk_speed
                lk = agent_link[i]
                on_link[i] += speed
                moved += speed
                if on_link[i] <= link_len[lk]:
                    break  # still on the link tomorrow
                moved += link_len[lk] - on_link[i]
                link_count[lk] -= 1
                agent_link[i] = -1
                arrived[i] = 1
                if link_open[lk] == 0:
                    # the link closed under the agent: back to where it started, plan dropped
                    here = link_src[lk]
                    loc[i] = here
                    count[here] += 1
                    route[i] = -1
                    break
                here = link_dst[lk]
                loc[i] = here
                count[here] += 1
                if moved >= speed:
                    break
                force = False
                if avoid_short_stints and (r + moved / max_speed) / 2.0 < 0.5:
                    force = True
                if route[i] >= 0 or (force and is_town[here]):
                    mc = 1.0
                else:
                    mc = movechance[here]
                if _draw(keys, seed, i, day, 2 + 2 * draw) >= mc:
                    break
                nxt = start_move(i, here, _draw(keys, seed, i, day, 3 + 2 * draw), agent_link, on_link,
                                 route, route_pos, count, link_open, link_src, path_ptr, path_end, path_len,
                                 plink_ptr, plink, path_open, path_w0, weight_power, capacity, buffer,
                                 is_camp, scratch)
                draw += 1
                if nxt < 0:
                    break
                count[here] -= 1
                link_count[nxt] += 1
            recent[i] = (r + moved / max_speed) / 2.0
            recent_day[i] = day + 1


@njit(cache=True, parallel=True)
def place_new_agents(seed, day, first_id, n_new, cum_weights, loc, home):
    """Spawn location of each new agent by inverse CDF of the spawn weights (its own draw)."""
    total = cum_weights[-1]
    key = day_key(seed, day, STREAM_SPAWN)
    for j in prange(n_new):
        i = first_id + j
        target = uniform_keyed(key, i) * total
        p = np.searchsorted(cum_weights, target, side="right")
        if p >= cum_weights.shape[0]:
            p = cum_weights.shape[0] - 1
        loc[i] = p
        home[i] = p
