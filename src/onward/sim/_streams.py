"""Per-person random streams: each person's draws depend only on (seed, person, step, purpose).

A person's uniform in a step is a hash of their own key and the step's salt (the 32-bit MurmurHash3
finaliser, in place over NumPy arrays), so whether one person falls ill, recovers or drops out never
shifts anyone else's draws. Two runs with different parameters (a calibration's evaluations, two
scenarios of a what-if) then differ only where the parameters make them differ: common random
numbers person by person, not just one shared Generator whose stream shifts as soon as one count
differs. Draws for the whole population cost less than `Generator.random` (in-place uint32 work).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

_M1, _M2 = np.uint32(0x85EBCA6B), np.uint32(0xC2B2AE35)
_TWO_32 = 2.0**32
_CHUNK = 1 << 16  # 65,536 uint32: 256 KiB per array, so a chunk and its scratch stay in L2
_MASK64 = (1 << 64) - 1


def _splitmix64(x: int) -> int:
    x = (x + 0x9E3779B97F4A7C15) & _MASK64
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & _MASK64
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & _MASK64
    return x ^ (x >> 31)


def fmix32(x: npt.NDArray[np.uint32], tmp: npt.NDArray[np.uint32] | None = None) -> npt.NDArray[np.uint32]:
    """MurmurHash3's 32-bit finaliser, in place on `x` (a bijection with full avalanche)."""
    tmp = np.empty_like(x) if tmp is None else tmp[: x.size]
    np.right_shift(x, 16, out=tmp)
    np.bitwise_xor(x, tmp, out=x)
    np.multiply(x, _M1, out=x)
    np.right_shift(x, 13, out=tmp)
    np.bitwise_xor(x, tmp, out=x)
    np.multiply(x, _M2, out=x)
    np.right_shift(x, 16, out=tmp)
    np.bitwise_xor(x, tmp, out=x)
    return x


class Streams:
    """Keys per person (by person number, so a person keeps their stream wherever they are stored)."""

    def __init__(self, seed: int) -> None:
        self._seed = _splitmix64(seed & _MASK64)
        self._tmp = np.empty(0, dtype=np.uint32)
        self._buf = np.empty(0, dtype=np.uint32)

    def keys(self, person: npt.NDArray[Any]) -> npt.NDArray[np.uint32]:
        """The key of each person number."""
        # uint32 arithmetic wraps modulo 2**32: the low 32 bits of the 64-bit product, as before
        x = np.multiply(np.asarray(person).astype(np.uint32), np.uint32(0x9E3779B1), dtype=np.uint32)
        np.bitwise_xor(x, np.uint32(self._seed >> 32), out=x)
        return fmix32(x)

    def salt(self, step: int, purpose: int) -> np.uint32:
        return np.uint32(_splitmix64(self._seed ^ (step * 64 + purpose)) & 0xFFFFFFFF)

    def bits(self, keys: npt.NDArray[np.uint32], step: int, purpose: int) -> npt.NDArray[np.uint32]:
        """32 random bits per key for this step and purpose, in a buffer the next `bits` call reuses.

        Meant for the one whole-population draw of a step; `uniform` and `normal` return new arrays.
        """
        n = keys.size
        if self._buf.size < n:
            self._buf = np.empty(max(n, 2 * self._buf.size), dtype=np.uint32)
            self._tmp = np.empty(_CHUNK, dtype=np.uint32)
        out = self._buf[:n]
        salt = self.salt(step, purpose)
        for lo in range(0, n, _CHUNK):  # chunks that stay in cache: eight passes over each, not over all
            part = out[lo : lo + _CHUNK]
            np.add(keys[lo : lo + _CHUNK], salt, out=part)
            fmix32(part, self._tmp)
        return out

    def uniform(self, keys: npt.NDArray[np.uint32], step: int, purpose: int) -> npt.NDArray[np.float64]:
        """A uniform in (0, 1) per key (a new array)."""
        x = fmix32(np.add(keys, self.salt(step, purpose), dtype=np.uint32))
        return (x.astype(np.float64) + 0.5) / _TWO_32

    def normal(self, keys: npt.NDArray[np.uint32], step: int, purpose: int) -> npt.NDArray[np.float64]:
        """An approximately standard normal per key: the sum of the hash's four bytes, standardised.

        (Irwin-Hall with four terms: mean and variance exact, tails cut at ±3.5; plenty for symptom
        scores that are rounded and clipped to their scale.)
        """
        x = fmix32(np.add(keys, self.salt(step, purpose), dtype=np.uint32))
        pairs = (x & _BYTES_02) + ((x >> 8) & _BYTES_02)  # two 16-bit lanes, each the sum of two bytes
        total = (pairs & np.uint32(0xFFFF)) + (pairs >> 16)
        out: npt.NDArray[np.float64] = (total - 510.0) * _BYTE_SUM_SCALE
        return out


_BYTES_02 = np.uint32(0x00FF00FF)
_BYTE_SUM_SCALE = 1.0 / float(np.sqrt(4 * (256**2 - 1) / 12.0))


def threshold(p: float) -> np.uint32:
    """The uint32 bound b such that P(bits < b) = p (for comparing raw bits with a probability)."""
    return np.uint32(min(int(p * _TWO_32), 0xFFFFFFFF))
