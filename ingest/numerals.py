"""Chinese and Arabic numerals as used in article and chapter labels (第一千二百六十条, 第12条)."""

from __future__ import annotations

DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
UNITS = {"十": 10, "百": 100, "千": 1000}
NUMERAL_CHARS = "".join(DIGITS) + "".join(UNITS) + "0123456789０１２３４５６７８９"


def to_int(text: str) -> int:
    """'二十一' -> 21, '一千二百六十' -> 1260, '12' or '１２' -> 12. Raises ValueError on anything else."""
    text = text.strip().translate(str.maketrans("０１２３４５６７８９", "0123456789"))
    if not text:
        raise ValueError("empty numeral")
    if text.isdigit():
        return int(text)
    total, current = 0, 0
    for ch in text:
        if ch in DIGITS:
            current = DIGITS[ch]
        elif ch in UNITS:
            total += (current or 1) * UNITS[ch]
            current = 0
        else:
            raise ValueError(f"not a numeral: {text!r}")
    return total + current


def to_chinese(n: int) -> str:
    """21 -> '二十一', 10 -> '十', 110 -> '一百一十', 1005 -> '一千零五' (the form used in labels)."""
    if n <= 0:
        raise ValueError("labels start at one")
    digits = "零一二三四五六七八九"
    parts: list[str] = []
    for unit, name in ((1000, "千"), (100, "百"), (10, "十")):
        q, n = divmod(n, unit)
        if q:
            parts.append(digits[q] + name)
        elif parts and n:
            if parts[-1] != "零":
                parts.append("零")
    if n:
        parts.append(digits[n])
    out = "".join(parts)
    return out[1:] if out.startswith("一十") else out
