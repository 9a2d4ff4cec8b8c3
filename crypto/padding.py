"""Length padding that hides exact sizes (DESIGN.md §7: the relay sees padded sizes only).

Padmé (Nikitin et al., "Reducing Metadata Leakage from Encrypted Files and Communication
with PURBs", PETS 2019) rounds a length up so that at most O(log log L) bits of it remain,
costing at most 12 % overhead; below a floor every message has the same size.
"""

from __future__ import annotations

MINIMUM_PADDED_LENGTH = 256


def padme(length: int) -> int:
    """The Padmé length for ``length`` (≥ ``length``)."""
    if length < 0:
        raise ValueError("length must not be negative")
    if length < 2:
        return length
    exponent = length.bit_length() - 1  # floor(log2 L)
    mantissa_bits = exponent.bit_length()  # floor(log2 E) + 1
    mask = (1 << (exponent - mantissa_bits)) - 1
    return (length + mask) & ~mask


def padded_length(length: int, minimum: int = MINIMUM_PADDED_LENGTH) -> int:
    """The size a plaintext of ``length`` bytes is padded to before encryption."""
    return max(minimum, padme(length))
