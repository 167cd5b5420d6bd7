"""The row masks behind every filtered search (ingest/stores/row_filter.py): right rows, kept, never changed."""

from __future__ import annotations

import numpy as np
import pytest

from ingest.stores.row_filter import KEEP, RowFilter


def test_a_mask_marks_exactly_the_rows_of_the_chosen_regulations():
    rows = RowFilter(["hubei", "hangzhou", "hubei", "law", "hangzhou"])
    assert rows.mask({"hubei"}).tolist() == [True, False, True, False, False]
    assert rows.mask(["hangzhou", "law"]).tolist() == [False, True, False, True, True]
    assert rows.mask({"nowhere"}).tolist() == [False] * 5  # an id no row has matches nothing
    assert rows.mask(set()).tolist() == [False] * 5


def test_the_same_filter_is_answered_from_the_kept_mask_and_cannot_be_changed_by_a_caller():
    rows = RowFilter(["a", "b"] * 10)
    first = rows.mask(frozenset({"a"}))
    assert rows.mask(["a"]) is first
    with pytest.raises(ValueError):
        first[0] = False
    for n in range(KEEP):  # KEEP other filters push the first one out; it is built again, alike
        rows.mask({f"x{n}"})
    again = rows.mask({"a"})
    assert again is not first and np.array_equal(again, first)
