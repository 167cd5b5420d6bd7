"""The sentence a result points at (retrieval/highlight.py)."""

from __future__ import annotations

from retrieval.highlight import best_sentence, sentences

TEXT = "本条例适用于本省行政区域。\n企业应当配备专职质量管理人员；建立质量管理体系。"


def test_the_sentence_of_a_later_paragraph_that_matches_is_chosen():
    start, end = best_sentence(TEXT, "企业要配质量管理人员吗", ["企业", "质量", "管理", "人员"])
    assert TEXT[start:end] == "企业应当配备专职质量管理人员；"


def test_sentences_split_on_chinese_and_western_punctuation():
    assert [TEXT[a:b] for a, b in sentences(TEXT)] == ["本条例适用于本省行政区域。", "企业应当配备专职质量管理人员；",
                                                         "建立质量管理体系。"]


def test_a_tie_goes_to_the_sentence_inside_the_matched_chunk_and_no_match_to_the_first():
    text = "质量第一。质量第一。"
    assert best_sentence(text, "质量", ["质量"], within=(5, 10)) == (5, 10)
    assert best_sentence(text, "质量", ["质量"]) == (0, 5)
    assert best_sentence(TEXT, "weather", ["weather"]) == (0, len("本条例适用于本省行政区域。"))
