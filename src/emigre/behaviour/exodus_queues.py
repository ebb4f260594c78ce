"""Numba kernels of the border queues' waiting lines (exodus ruleset): a waiting traveller is not visited every
day but sits in its exit link's line, in ticket order, until ``open_capacity`` serves its ticket or the link's
state or entry rules change (:func:`wake_queues`); :func:`open_capacity` opens each link's daily throughput."""

from __future__ import annotations

import math

from numba import njit


@njit(cache=True, inline="always")
def _enqueue(a, lk, t, q):
    """Append ``a`` to link ``lk``'s waiting line (tickets rise, so the line stays in ticket order)."""
    t.qnext[a] = -1
    t.qprev[a] = q.qtail[lk]
    if q.qtail[lk] >= 0:
        t.qnext[q.qtail[lk]] = a
    else:
        q.qhead[lk] = a
    q.qtail[lk] = a


@njit(cache=True, inline="always")
def _unqueue(a, lk, t, q):
    """Take ``a`` out of link ``lk``'s waiting line (served, or left it)."""
    pv, nx = t.qprev[a], t.qnext[a]
    if pv >= 0:
        t.qnext[pv] = nx
    else:
        q.qhead[lk] = nx
    if nx >= 0:
        t.qprev[nx] = pv
    else:
        q.qtail[lk] = pv
    t.qprev[a] = -1
    t.qnext[a] = -1


@njit(cache=True, inline="always")
def _to_today(a, first, last, nxt, due, day):
    """Append ``a`` to the list of travellers who act today (``first``..``last`` linked by ``nxt``)."""
    if last >= 0:
        nxt[last] = a
    else:
        first = a
    due[a] = day
    return first, a


@njit(cache=True)
def wake_queues(day, t, q):
    """Put the waiting travellers who act today in today's bucket, in ticket order, instead of visiting every
    waiting traveller every day: those whose ticket ``open_capacity`` served today (out of the line: they
    cross), and, on a day the link's state or its entry rules change, everyone still waiting (they look
    again: a shut route sends them back to choose). The same travellers act as under a daily check."""
    head, nxt, due, ticket = t.head, t.nxt, t.due, t.ticket
    first, last = -1, -1
    for lk in range(q.qhead.shape[0]):
        while q.qhead[lk] >= 0 and ticket[q.qhead[lk]] < q.served[lk]:
            a = q.qhead[lk]
            _unqueue(a, lk, t, q)
            first, last = _to_today(a, first, last, nxt, due, day)
        if q.wake[day, lk]:
            a = q.qhead[lk]
            while a >= 0:
                first, last = _to_today(a, first, last, nxt, due, day)
                a = t.qnext[a]
    if last >= 0:
        nxt[last] = head[day]
        head[day] = first


@njit(cache=True)
def open_capacity(day, link_cap, cap_factor, link_open, link_restricted, scale, enq, served, remaining, cap_today,
                  cap_n, ghost):
    """Serve queued tickets first (FIFO), leave the rest of today's capacity to newcomers."""
    for lk in range(link_cap.shape[0]):
        if link_cap[lk] <= 0.0 or not (link_open[day, lk] or link_restricted[day, lk]):
            # a shut link clears its queue: the ticket holders find it shut and choose again
            served[lk] = enq[lk]
            ghost[lk] = 0
            remaining[lk] = 0
            cap_today[lk] = 0.0
            cap_n[lk] = 0
            continue
        cap = link_cap[lk] * cap_factor[day, lk] / scale
        # persons -> whole travellers per day, with the fraction carried by a deterministic day pattern
        whole = math.floor(cap)
        frac = cap - whole
        ncap = int(whole) + (1 if (math.floor((day + 1) * frac) - math.floor(day * frac)) > 0 else 0)
        cap_today[lk] = cap
        cap_n[lk] = ncap
        # tickets of travellers who left the queue are skipped without using capacity
        skip = min(ghost[lk], enq[lk] - served[lk])
        served[lk] += skip
        ghost[lk] -= skip
        waiting = enq[lk] - served[lk]
        take = min(waiting, ncap)
        served[lk] += take
        remaining[lk] = ncap - take
