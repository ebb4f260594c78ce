"""The exodus kernels' argument bundles (emigre.behaviour.exodus_bundles): built by position or field name, one
object whose arrays the kernels write through, and a clear error on a wrong field."""

from __future__ import annotations

import numpy as np
import pytest
from numba import njit

from emigre.behaviour import exodus_bundles as B


@njit(cache=False)
def _bump(q, lk):
    q.enq[lk] += 1
    return q.served[lk] + q.enq.shape[0]


def _queues(**over):
    fields = {f: np.zeros(3, dtype=np.int64) for f in B.QUEUES_FIELDS}
    fields["cap_today"] = np.zeros(3)
    fields["wake"] = np.zeros((2, 3), dtype=np.bool_)
    fields.update(over)
    return fields


def test_a_bundle_by_position_or_by_name_is_the_same_object_kind_and_shares_its_arrays():
    f = _queues()
    by_name = B.Queues(**f)
    by_position = B.Queues(*[f[k] for k in B.QUEUES_FIELDS])
    assert type(by_name) is type(by_position) is B.QueuesBundle
    f["served"][2] = 7
    assert _bump(by_name, 2) == 7 + 3
    assert f["enq"][2] == 1  # the kernel wrote through the caller's array
    assert _bump(by_position, 2) == 7 + 3 and f["enq"][2] == 2
    assert B.Queues._fields == B.QUEUES_FIELDS and len(B.QUEUES_FIELDS) == 9


def test_a_wrong_or_missing_field_names_the_bundle():
    f = _queues()
    f.pop("wake")
    with pytest.raises(TypeError, match=r"Queues: fields .*'wake'"):
        B.Queues(**f)
    with pytest.raises(TypeError, match=r"Queues: 9 fields expected, got 2"):
        B.Queues(np.zeros(1), np.zeros(1))
    with pytest.raises(TypeError, match=r"Queues: fields .* got .*'nonsense'"):
        B.Queues(**_queues(nonsense=np.zeros(1)))


def test_replace_changes_the_named_fields_and_keeps_the_others():
    f = _queues()
    q = B.Queues(**f)
    enq = np.full(3, 5, dtype=np.int64)
    r = B.replace(q, enq=enq)
    assert type(r) is B.QueuesBundle
    assert _bump(r, 0) == 0 + 3 and enq[0] == 6 and f["enq"][0] == 0  # the new array, not the old one
    assert np.shares_memory(B._field(r, "served"), f["served"])  # the fields not named are the same arrays
    with pytest.raises(TypeError, match=r"Queues: no fields \['nonsense'\]"):
        B.replace(q, nonsense=1)
