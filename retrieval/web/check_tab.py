"""The "核对引用 Check citations" tab: a draft in, each citation's verdict out (retrieval/web/check_view.py
renders it). `build(service)` adds the tab's components and events inside the page's `gr.Tab`."""

from __future__ import annotations

import logging

import gradio as gr

from ingest.errors import RegQAError
from retrieval import web
from retrieval.serving.check_service import CitationChecks
from retrieval.serving.service import SearchService
from retrieval.web import check_view

log = logging.getLogger(__name__)

INTERNAL_ERROR = "核对时出错，请稍后再试 (something went wrong; please try again)"
# A realistic paragraph with one right citation, a quotation that differs, an article number the measure
# does not have (its quotation is in another article) and a regulation the index does not hold.
EXAMPLE_DRAFT = (
    "关于推行首席质量官制度的说明：根据《湖北省质量促进条例》第三十七条，县级以上人民政府应当支持企业推行首席质量官制度。"
    "《杭州市质量促进办法》第十二条规定：“鼓励企业实行首席质量官制度，建设企业质量文化”。"
    "企业还应参与质量诚信体系建设，《杭州市质量促进办法》第三十二条规定：“实施质量信用分类监管，推进质量诚信体系建设”。"
    "此外，《浙江省质量促进条例》第二十条对首席质量官的培训也有要求。"
)


def build(service: SearchService) -> None:
    checks = CitationChecks.of(service)

    async def check(text: str) -> str:
        if not isinstance(text, str) or not text.strip():
            return check_view.error("请先粘贴草稿 (paste a draft first)")
        try:
            report = await service.run(checks.check, text)
        except RegQAError as exc:
            return check_view.error(str(exc))
        except Exception:
            log.exception("citation check failed")
            return check_view.error(INTERNAL_ERROR)
        return check_view.report(text, report.to_json())

    with gr.Row(equal_height=False):
        with gr.Column(scale=1, min_width=300):
            draft = gr.Textbox(label="草稿 Draft", lines=12, max_lines=30, elem_id="regqa-ck-input",
                               placeholder="粘贴含有法规引用的文字，如：《湖北省质量促进条例》第二十三条规定：“……” · "
                                           "Paste text that cites the regulations")
            with gr.Row():
                run = gr.Button("检查 Check", variant="primary", elem_id="regqa-ck-run", min_width=120)
                example = gr.Button("示例草稿 Example draft", elem_id="regqa-ck-example", min_width=120)
        with gr.Column(scale=1, min_width=300):
            result = gr.HTML(check_view.EMPTY, elem_id="regqa-ck-result", js_on_load=web.asset("check_marks.js"))
    run.click(check, draft, result, api_visibility="private")
    example.click(lambda: EXAMPLE_DRAFT, None, draft, api_visibility="private", queue=False)
