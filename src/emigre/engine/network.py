"""The network of places and directed links as CSR arrays."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Network:
    """Places ``0..n_places-1`` and directed links ``0..n_links-1``.

    ``out_ptr``/``out_links`` is the CSR index of links leaving each place, in input order;
    ``reverse[k]`` is the link in the opposite direction (or -1).
    """

    n_places: int
    src: np.ndarray  # int32 [n_links]
    dst: np.ndarray  # int32 [n_links]
    length_km: np.ndarray  # float64 [n_links]
    out_ptr: np.ndarray  # int64 [n_places + 1]
    out_links: np.ndarray  # int32 [n_links]
    reverse: np.ndarray  # int32 [n_links]

    @property
    def n_links(self) -> int:
        """Number of directed links."""
        return int(self.src.shape[0])

    def out(self, place: int) -> np.ndarray:
        """The links leaving ``place``."""
        return self.out_links[self.out_ptr[place] : self.out_ptr[place + 1]]

    @classmethod
    def from_undirected(cls, n_places: int, ends: list[tuple[int, int]], lengths: list[float]) -> Network:
        """Each undirected edge becomes two directed links (2e and 2e+1) of the same length."""
        src, dst, length = [], [], []
        for (a, b), d in zip(ends, lengths, strict=True):
            src += [a, b]
            dst += [b, a]
            length += [d, d]
        return cls.from_directed(n_places, src, dst, length, reverse=np.arange(len(src)) ^ 1)

    @classmethod
    def from_directed(cls, n_places, src, dst, length, reverse=None) -> Network:
        """A CSR network from directed links: source, destination and length per link."""
        src_a = np.asarray(src, dtype=np.int32)
        dst_a = np.asarray(dst, dtype=np.int32)
        len_a = np.asarray(length, dtype=np.float64)
        if src_a.size and (src_a.min() < 0 or max(src_a.max(), dst_a.max()) >= n_places):
            raise ValueError("link end outside 0..n_places-1")
        order = np.argsort(src_a, kind="stable")
        counts = np.bincount(src_a, minlength=n_places)
        out_ptr = np.zeros(n_places + 1, dtype=np.int64)
        np.cumsum(counts, out=out_ptr[1:])
        if reverse is None:
            index = {(int(s), int(d)): k for k, (s, d) in enumerate(zip(src_a, dst_a, strict=True))}
            reverse = [index.get((int(d), int(s)), -1) for s, d in zip(src_a, dst_a, strict=True)]
        return cls(
            n_places=int(n_places),
            src=src_a,
            dst=dst_a,
            length_km=len_a,
            out_ptr=out_ptr,
            out_links=order.astype(np.int32),
            reverse=np.asarray(reverse, dtype=np.int32),
        )
