"""Agents as a structure of arrays: one preallocated NumPy array per property, grown in chunks.

No object per agent. Slots ``0..n-1`` hold live agents; an agent's id is its slot, so ids are stable and
dense, which the counter-based RNG and the kernels rely on.
"""

from __future__ import annotations

import numpy as np


class Population:
    """Named per-agent arrays with a shared length ``n`` and a capacity grown in chunks."""

    def __init__(self, fields: dict[str, tuple[np.dtype | type, object]], capacity: int = 0, chunk: int = 65536):
        """``fields`` maps a name to ``(dtype, fill value for new agents)``."""
        if chunk < 1:
            raise ValueError("chunk must be >= 1")
        self._spec = {name: (np.dtype(dt), fill) for name, (dt, fill) in fields.items()}
        self.chunk = int(chunk)
        self.n = 0
        self.capacity = 0
        self.arrays: dict[str, np.ndarray] = {name: np.empty(0, dtype=dt) for name, (dt, _) in self._spec.items()}
        if capacity:
            self.reserve(capacity)

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, name: str) -> np.ndarray:
        """The full-capacity array of a field (kernels index it with ids < n)."""
        return self.arrays[name]

    @property
    def fields(self) -> list[str]:
        """The names of the per-agent arrays."""
        return list(self._spec)

    def view(self, name: str) -> np.ndarray:
        """The live part of a field: ``arrays[name][:n]``."""
        return self.arrays[name][: self.n]

    def reserve(self, capacity: int) -> None:
        """Make room for ``capacity`` agents (rounded up to whole chunks); never shrinks."""
        if capacity <= self.capacity:
            return
        new_cap = -(-int(capacity) // self.chunk) * self.chunk
        for name, (dt, _) in self._spec.items():
            grown = np.empty(new_cap, dtype=dt)
            grown[: self.n] = self.arrays[name][: self.n]
            self.arrays[name] = grown
        self.capacity = new_cap

    def add(self, count: int, *, fill: bool = True) -> slice:
        """Append ``count`` agents with every field at its fill value; returns their slot range.

        ``fill=False`` keeps what the slots hold: for a kernel that writes every field of the agents it creates
        (into spare capacity, then claims the slots), where filling every array each day would cost more than
        the day's work."""
        if count < 0:
            raise ValueError("count must be >= 0")
        start = self.n
        end = start + int(count)
        if end > self.capacity:
            # grow geometrically so repeated small additions stay amortised O(1)
            self.reserve(max(end, self.capacity + self.capacity // 2, self.chunk))
        if fill:
            for name, (_, value) in self._spec.items():
                self.arrays[name][start:end] = value
        self.n = end
        return slice(start, end)

    def nbytes(self) -> int:
        """Bytes held by the per-agent arrays."""
        return sum(a.nbytes for a in self.arrays.values())
