"""Fusion and abstention on their own: exact values, boundaries, no model and no index."""

from __future__ import annotations

import math

import pytest

from retrieval.abstain import AbstainRule, Evidence, coverage
from retrieval.fuse import DEFAULT_DENSE_WEIGHT, fuse
from retrieval.settings import NARROW_ARTICLES, SearchSettings


def test_fuse_weighs_min_max_normalised_scores():
    # dense 1.0/0.5 -> 1/0, lexical 3.0/1.0 -> 1/0; an article missing from a side scores 0 there
    fused = fuse({1: 1.0, 2: 0.5}, {2: 3.0, 3: 1.0}, 0.6)
    assert fused == pytest.approx({1: 0.6, 2: 0.4, 3: 0.0})


def test_the_default_weight_is_the_calibrated_one():
    # dense -> {1: 1, 2: 0.5, 3: 0}, lexical -> {1: 0, 2: 0.25, 3: 1}: at 0.6, 0.6 / 0.4 / 0.4; at 0.1 article 3 leads
    fused = fuse({1: 0.9, 2: 0.85, 3: 0.8}, {1: 1.0, 2: 3.0, 3: 9.0})
    assert fused == pytest.approx({1: 0.6, 2: 0.4, 3: 0.4})
    assert DEFAULT_DENSE_WEIGHT == SearchSettings().dense_weight == 0.6


def test_scores_of_different_scales_are_normalised_before_they_are_weighed():
    # BM25 runs to tens, cosines to one: raw, the lexical side would decide alone (2 ahead of 1)
    fused = fuse({1: 0.92, 2: 0.90}, {1: 11.0, 2: 12.0}, 0.6)
    assert fused == pytest.approx({1: 0.6, 2: 0.4})
    assert fuse({1: 5.0, 2: 4.0, 3: 3.0}, {}, 1.0) == pytest.approx({1: 1.0, 2: 0.5, 3: 0.0})


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


BACKGROUND_RULE = AbstainRule(dense_floor=0.80, dense_sure=0.90, min_coverage=0.25, cross_lingual_floor=0.70,
                              background_floor=0.02, cross_background_floor=-0.01)


@pytest.mark.parametrize(("evidence", "abstains"), [
    # same script: the background floor, not the cross-script one, applies; at the floor it answers
    (Evidence(0.95, 1.0, background=0.02), False),
    (Evidence(0.95, 1.0, background=0.0199), True),
    (Evidence(0.95, 1.0, background=0.0), True),  # above the cross-script floor, below its own
    (Evidence(0.85, 0.25, background=0.02), False),  # between floor and sure, enough words, at the floor
    (Evidence(0.85, 0.25, background=0.0199), True),
    (Evidence(0.85, 0.2499, background=1.0), True),  # far above the background, too few words
    (Evidence(0.7999, 1.0, background=1.0), True),
    # another script (NaN coverage): its own dense floor and background floor only
    (Evidence(0.70, math.nan, background=-0.01), False),
    (Evidence(0.70, math.nan, background=-0.0101), True),
    (Evidence(0.6999, math.nan, background=1.0), True),
    (Evidence(0.75, math.nan, background=0.0), False),  # below the same-script floor, above its own
    (Evidence(0.75, math.nan), False),  # no background measured: the margin never decides
    (Evidence(0.95, 1.0), False),
])
def test_abstain_with_both_background_floors(evidence: Evidence, abstains: bool):
    assert BACKGROUND_RULE.abstain(evidence) is abstains


def test_the_default_rule_is_calibrated_and_its_background_floors_are_off():
    rule = AbstainRule()
    assert (rule.dense_floor, rule.dense_sure, rule.min_coverage, rule.cross_lingual_floor) == (0.88, 0.885, 0.15,
                                                                                                 0.765)
    assert rule.background_floor == rule.cross_background_floor == -1.0  # cosine margins never reach -1
    assert Evidence(0.9, 0.5).background == math.inf
    assert rule.abstain(Evidence(0.885, 0.0, background=-0.99)) is False
    assert rule.abstain(Evidence(0.884, 0.1499)) is True and rule.abstain(Evidence(0.884, 0.15)) is False
    assert rule.abstain(Evidence(0.765, math.nan, background=-0.99)) is False
    assert rule.abstain(Evidence(0.7649, math.nan)) is True


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


def test_a_narrow_rule_is_chosen_for_a_few_regulations_only_and_stored_with_the_settings():
    from dataclasses import asdict

    narrow = AbstainRule(dense_floor=0.2)
    settings = SearchSettings(0.3, RULE, narrow)
    assert settings.rule_for(None) is RULE and settings.rule_for(NARROW_ARTICLES + 1) is RULE  # a library
    assert settings.rule_for(NARROW_ARTICLES) is narrow and settings.rule_for(1) is narrow  # a few regulations
    assert SearchSettings(0.3, RULE).rule_for(1) is RULE  # no narrow rule fitted: the library's everywhere
    stored = settings.to_json()
    assert stored == {"dense_weight": 0.3, "abstain_rule": asdict(RULE), "narrow_rule": asdict(narrow)}
    assert SearchSettings.from_manifest({"search": stored}) == settings
    assert SearchSettings(0.3, RULE).to_json() == {"dense_weight": 0.3, "abstain_rule": asdict(RULE)}
    # what a stored narrow rule leaves out is the library rule's, not the defaults'
    partial = SearchSettings.from_manifest({"search": {"abstain_rule": {"dense_floor": 0.5},
                                                       "narrow_rule": {"min_coverage": 0.4}}})
    assert partial.narrow_rule == AbstainRule(dense_floor=0.5, min_coverage=0.4)
    assert SearchSettings.from_manifest({"search": {"narrow_rule": "fitted"}}).narrow_rule is None


@pytest.mark.parametrize("weight", [0, 0.0, 1, 1.0, 0.35])
def test_stored_weights_from_zero_to_one_are_taken(weight: float, caplog: pytest.LogCaptureFixture):
    with caplog.at_level("WARNING", logger="retrieval.settings"):
        settings = SearchSettings.from_manifest({"search": {"dense_weight": weight}})
    assert settings.dense_weight == weight and isinstance(settings.dense_weight, float)
    assert caplog.records == []


@pytest.mark.parametrize("weight", [-0.01, 1.01, 2, "0.5", None, [0.5]])
def test_other_stored_weights_are_refused_with_a_warning(weight: object, caplog: pytest.LogCaptureFixture):
    with caplog.at_level("WARNING", logger="retrieval.settings"):
        settings = SearchSettings.from_manifest({"search": {"dense_weight": weight}})
    assert settings.dense_weight == DEFAULT_DENSE_WEIGHT
    assert [r.getMessage() for r in caplog.records] == [
        f"ignoring the index's dense_weight {weight!r} (not between 0 and 1)"]


def test_missing_settings_take_the_defaults_silently(caplog: pytest.LogCaptureFixture):
    with caplog.at_level("WARNING", logger="retrieval.settings"):
        assert SearchSettings.from_manifest({"search": {}}) == SearchSettings()
        assert SearchSettings.from_manifest({"search": "calibrated"}) == SearchSettings()
        assert SearchSettings.from_manifest({"search": {"abstain_rule": {}}}) == SearchSettings()
        rule = SearchSettings.from_manifest({"search": {"abstain_rule": {"min_coverage": 1}}}).abstain_rule
    assert caplog.records == [] and rule.min_coverage == 1.0 and isinstance(rule.min_coverage, float)


def test_unknown_or_non_numeric_abstain_settings_are_named_in_a_warning(caplog: pytest.LogCaptureFixture):
    raw = {"dense_floor": 0.5, "speed": 3, "min_coverage": "high"}
    with caplog.at_level("WARNING", logger="retrieval.settings"):
        rule = SearchSettings.from_manifest({"search": {"abstain_rule": raw}}).abstain_rule
    assert rule == AbstainRule(dense_floor=0.5)
    assert [r.getMessage() for r in caplog.records] == [
        "ignoring unknown or non-numeric abstain settings in the index: ['min_coverage', 'speed']"]
