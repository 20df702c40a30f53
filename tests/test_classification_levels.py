"""The classification levels' helpers, which the write path asks thousands of times."""

import pytest

from accounts.choices import Classification


def test_the_levels_rank_in_order_of_sensitivity():
    assert [Classification.rank(level) for level in Classification.values] == [0, 1, 2, 3]
    assert Classification.up_to("confidential") == ["unclassified", "restricted", "confidential"]
    with pytest.raises(ValueError):
        Classification.rank("top_secret")


@pytest.mark.parametrize(
    "value, expected",
    [("secret", True), ("unclassified", True), ("Secret", False), ("", False), (None, False)]
    + [(["secret"], False), ({"level": 1}, False)],
)
def test_is_level_is_membership_of_the_values(value, expected):
    assert Classification.is_level(value) is expected
