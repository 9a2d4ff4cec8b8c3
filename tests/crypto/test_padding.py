from hypothesis import given
from hypothesis import strategies as st

from crypto.padding import MINIMUM_PADDED_LENGTH, padded_length, padme


def test_known_values() -> None:
    # Padmé keeps the top floor(log2 E)+1 bits of L: 9 → 10, 100 → 104, 1000 → 1024, 1025 → 1088.
    assert [padme(n) for n in (0, 1, 2, 3, 9, 100, 1000, 1025)] == [0, 1, 2, 3, 10, 104, 1024, 1088]


@given(st.integers(min_value=1, max_value=1 << 40))
def test_never_shrinks_and_overhead_is_bounded(length: int) -> None:
    padded = padme(length)
    assert length <= padded <= length * 1.12 + 1
    assert padme(padded) == padded


def test_small_messages_all_have_the_floor_size() -> None:
    assert {padded_length(n) for n in range(MINIMUM_PADDED_LENGTH + 1)} == {MINIMUM_PADDED_LENGTH}
