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


def test_character_pairs_of_the_text_without_punctuation_or_spaces():
    from retrieval.highlight import _bigrams

    assert _bigrams("质量，管理") == {"质量", "量管", "管理"}  # pairs run across the removed punctuation
    assert _bigrams("質量") == {"质量"}  # normalised: traditional to simplified
    assert _bigrams("质") == {"质"} and _bigrams("，。") == set() and _bigrams("") == set()
    assert _bigrams("ab c") == {"ab", "bc"}


def test_a_word_counts_more_than_any_share_of_character_pairs():
    text = "建立质量管理体系。配备专职人员。"
    # the first sentence holds 6 of the question's 9 pairs, the second the one word 专职 (and 1 pair)
    assert best_sentence(text, "专职质量管理体系建立", ["专职"]) == (9, 16)


def test_single_characters_break_a_tie_of_words_and_pairs():
    text = "其他内容。配备人员。"
    assert best_sentence(text, "配人", ["配", "人"]) == (5, 10)
    assert best_sentence(text, "配人", ["配人"]) == (0, 5)  # no single characters: the first sentence


def test_more_words_win_over_fewer():
    text = "质量。质量管理。"
    assert best_sentence(text, "质量管理", ["质量", "管理"]) == (3, 8)


def test_text_without_a_sentence_is_one_span():
    assert best_sentence("", "质量", ["质量"]) == (0, 0)
    assert best_sentence("   ", "质量", ["质量"]) == (0, 3)


def test_with_the_same_words_more_character_pairs_win():
    text = "质量。质量管理。"
    assert best_sentence(text, "质量管理", ["质量"]) == (3, 8)
