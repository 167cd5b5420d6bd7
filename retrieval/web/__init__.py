"""The web page's pieces, apart from the wiring in app.py: the chat's HTML (cards), the laws tab
(laws), and the static assets beside them (page.css, head.html, copy_citation.js, feedback.js, show_reply.js,
skip_link.html and .js (the skip link and the filter list's placement), intro.md,
about.md), which Gradio reads from these paths.

May import: every room below it (serving, the conversation, the checker, the ranking core, `ingest`); nothing
imports the page but app.py."""

from __future__ import annotations

from pathlib import Path

HERE = Path(__file__).resolve().parent
CSS = HERE / "page.css"
HEAD = HERE / "head.html"


def asset(name: str) -> str:
    """The text of one asset file beside this module (JavaScript and Markdown go to Gradio as strings)."""
    return (HERE / name).read_text(encoding="utf-8")


def scripts(*names: str) -> str:
    """Several `() => {...}` asset scripts as the one function Gradio's `js=` runs on load."""
    calls = "".join(f"({asset(n).strip()})();\n" for n in names)
    return f"() => {{\n{calls}}}"


def theme():
    """Local fonts only: Gradio's default theme would fetch web fonts, and the page must work offline."""
    import gradio as gr

    # Subdued text (relevance lines, notes, the placeholder) dark enough for WCAG AA (4.5:1) on white.
    return gr.themes.Default(
        font=["Noto Sans CJK SC", "PingFang SC", "Microsoft YaHei", "system-ui", "sans-serif"],
        font_mono=["Noto Sans Mono CJK SC", "ui-monospace", "monospace"]).set(
        body_text_color_subdued="*neutral_600", input_placeholder_color="*neutral_500",
        block_info_text_color="*neutral_600", block_info_text_color_dark="*neutral_400")
