"""Fusion and abstention on their own: exact values, boundaries, no model and no index."""

from __future__ import annotations

import math

import pytest

from retrieval.abstain import AbstainRule, Evidence, coverage
from retrieval.fuse import fuse
from retrieval.settings import SearchSettings


def test_fuse_weighs_min_max_normalised_scores():
    # dense 1.0/0.5 -> 1/0, lexical 3.0/1.0 -> 1/0; an article missing from a side scores 0 there
    fused = fuse({1: 1.0, 2: 0.5}, {2: 3.0, 3: 1.0}, 0.6)
    assert fused == pytest.approx({1: 0.6, 2: 0.4, 3: 0.0})


def test_fuse_with_one_side_only_or_equal_scores():
    assert fuse({1: 0.9, 2: 0.8}, {}, 0.6) == pytest.approx({1: 0.6, 2: 0.0})
    assert fuse({}, {5: 2.0, 6: 2.0}, 0.6) == pytest.approx({5: 0.4, 6: 0.4})  # all equal: each counts fully
    assert fuse({}, {}, 0.6) == {}
    assert fuse({1: 1.0, 2: 0.5}, {2: 3.0, 3: 1.0}, 1.0) == pytest.approx({1: 1.0, 2: 0.0, 3: 0.0})


RULE = AbstainRule(dense_floor=0.80, dense_sure=0.90, min_coverage=0.25, cross_lingual_floor=0.70)


@pytest.mark.parametrize(("dense_top", "cov", "abstains"), [
    (0.7999, 1.0, True),  # below the floor: whatever the words say
    (0.80, 0.0, True),  # between floor and sure: the words decide
    (0.80, 0.2499, True),
    (0.80, 0.25, False),  # exactly the minimum coverage is enough
    (0.8999, 0.0, True),
    (0.90, 0.0, False),  # at "sure" the meaning alone is enough
    (0.6999, math.nan, True),  # another script: its own floor decides
    (0.70, math.nan, False),
])
def test_abstain_rule_at_its_boundaries(dense_top: float, cov: float, abstains: bool):
    assert RULE.abstain(Evidence(dense_top, cov)) is abstains


def test_the_background_margin_floor_at_its_boundary():
    rule = AbstainRule(dense_floor=0.80, dense_sure=0.90, background_floor=0.02, cross_background_floor=-0.01)
    assert rule.abstain(Evidence(0.95, 1.0, background=0.0199)) is True
    assert rule.abstain(Evidence(0.95, 1.0, background=0.02)) is False
    assert rule.abstain(Evidence(0.95, math.nan, background=-0.0101)) is True
    assert rule.abstain(Evidence(0.95, math.nan, background=-0.01)) is False


def test_coverage_counts_content_tokens_of_two_characters_or_more():
    assert coverage(["企业", "质量", "的", "x"], "企业应当提高质量") == 1.0
    assert coverage(["企业", "奖金"], "企业应当提高质量") == 0.5
    assert coverage(["的"], "企业应当提高质量") == 0.0  # nothing to measure: no content
    assert coverage(["quality", "iso"], "推行ISO 9001".lower()) == 0.5


def test_coverage_is_undefined_across_scripts():
    assert math.isnan(coverage(["quality", "award"], "企业应当提高质量"))
    assert coverage(["quality", "award"], "no chinese here") == 0.0  # same script, simply not found


def test_search_settings_from_a_manifest():
    assert SearchSettings.from_manifest({}) == SearchSettings()
    stored = SearchSettings.from_manifest({"search": {"dense_weight": 0.7, "abstain_rule": {"dense_floor": 0.5}}})
    assert stored.dense_weight == 0.7 and stored.abstain_rule.dense_floor == 0.5
    assert stored.abstain_rule.min_coverage == AbstainRule().min_coverage
    saved = SearchSettings(0.3, RULE)
    assert SearchSettings.from_manifest({"search": saved.to_json()}) == saved  # what to_json writes reads back
    bad = SearchSettings.from_manifest({"search": {"dense_weight": 3, "abstain_rule": {"dense_floor": "high"}}})
    assert bad == SearchSettings()  # out of range or not a number: the defaults, never a guess
