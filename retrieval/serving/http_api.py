"""The plain JSON API for programs, as FastAPI routes on the same server as the page.

- `GET /api/search?q=…&k=…&mode=…&regulation=…&level=…&region=…` (each filter may repeat) and
  `POST /api/search` with a JSON object `{"q", "k", "mode", "regulation", "level", "region", "history"}`: the
  JSON of `python -m retrieval search --json`. With `history` (the earlier questions, oldest first) the
  question is read as a follow-up and the answer says how ("understood", retrieval/conversation/followup.py);
  GET takes it as repeated `history=`.
  The `X-Cache` header says whether the answer came from the cache (`hit`) or was searched (`miss`).
- `GET /api/regulations`: the object of `python -m ingest list --json`.
- `POST /api/check` with `{"text": "…"}`: every article citation in a draft checked against the served
  index, in order: the JSON of `python -m retrieval check --json` (`{"citations", "counts", "unattributed"}`).
  A draft with more than 200 citations (or bare 第X条) reports the first 200 in full, adds `"truncated": true`
  and `"citations_total"`/`"unattributed_total"`; `counts` still counts every citation by verdict.
- `GET /api/health`: whether the index is loaded, which build, and how busy the server is.
- `POST /api/feedback` with `{"question", "article_id" (or null), "vote": "up"|"down", "kind": "answer"|
  "no_answer"}`: the page's 👍/👎, appended to the feedback log (`retrieval/serving/feedback.py`); `{"ok": true}`.
  At most REGQA_FEEDBACK_PER_MINUTE votes per client per minute (30); more get 429 with Retry-After.

A POST body must be sent as `Content-Type: application/json` (else 415), so a page on another site cannot post
one without the browser asking first. Errors are `{"error": message}`: 400 for bad input (a k that is not a
whole number too), 403 for a request from another site's page or for a host name the server does not answer
(`retrieval/serving/guard.py`), 413 for a question, draft or body that is too long, 414 for a request line
past 64 KB (`retrieval/serving/http_server.py`; send long questions by POST), 415 for a body that is not
JSON, 429 with Retry-After for too many votes, 503 with Retry-After when every search slot is taken or the
index cannot be loaded, 404/405 for a wrong route; never a traceback. OpenAPI at /openapi.json; this page,
/docs, is served whole by the app (no CDN).
"""

from __future__ import annotations

import json
import logging
import threading
from typing import Annotated, Any

from fastapi import FastAPI, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field, ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from ingest.errors import EmbedderError, IndexFault, QueryError, QueryTooLong, RegQAError, ServiceBusy
from retrieval.checker.check import MAX_DRAFT_CHARS, VERDICTS
from retrieval.conversation.followup import response_json
from retrieval.serving.api_docs import add_docs
from retrieval.serving.check_service import CitationChecks
from retrieval.serving.feedback import MAX_QUESTION
from retrieval.serving.rate_limit import RateLimit
from retrieval.serving.service import SearchService, as_k

log = logging.getLogger(__name__)

DEFAULT_K = 5  # the CLI's default, so a bare question equals `python -m retrieval search --json`
MAX_BODY_BYTES = 64 * 1024  # a question is at most 1,000 characters; anything far larger is refused unread
INTERNAL_ERROR = "检索时出错，请稍后再试 (something went wrong; please try again)"
UNAVAILABLE_RETRY_S = 5
# A draft may be MAX_DRAFT_CHARS characters, each up to 6 bytes of JSON (\uXXXX); longer drafts get the checker's
# own 413 message, and bodies beyond even that are refused unread.
MAX_CHECK_BODY_BYTES = 6 * MAX_DRAFT_CHARS + 1024
FEEDBACK_AT_ONCE = 8  # votes written at once; each is one short locked append, so more just wait a moment
MAX_REPORTED = 200  # citations (and bare 第X条) a check reports in full; the rest are counted
NOT_JSON = "请求须为 JSON (the body must be sent as Content-Type: application/json)"

SEARCH_BODY_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["q"],
    "properties": {
        "q": {"type": "string", "maxLength": 1000, "description": "the question, in plain words"},
        "k": {"type": "integer", "minimum": 1, "maximum": 50, "default": DEFAULT_K,
              "description": "number of articles"},
        "mode": {"type": "string", "enum": ["hybrid", "dense", "lexical"], "default": "hybrid"},
        "regulation": {"oneOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}],
                       "description": "search only these regulations (id, title or short name)"},
        "history": {"type": "array", "items": {"type": "string"},
                    "description": "earlier questions, oldest first; the answer then says how it was read"},
        "level": {"oneOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}],
                  "description": "search only regulations of these levels (法律, 行政法规, 地方性法规 …)"},
        "region": {"oneOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}],
                   "description": "search only regulations of these regions (浙江省 or 浙江; 全国 for national ones)"},
        "as_of": {"type": "string", "format": "date",
                  "description": "search the versions in force on this day (default: today)"},
        "all_versions": {"type": "boolean", "default": False, "description": "search every version"},
    },
    "example": {"q": "湖北条例第二十三条", "k": 3, "mode": "hybrid"},
}
SEARCH_RESPONSE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "query": {"type": "string"},
        "abstained": {"type": "boolean", "description": "true when no article answers the question directly"},
        "results": {"type": "array", "items": {"type": "object", "properties": {
            "title": {"type": "string"}, "article": {"type": "string"}, "number": {"type": "integer"},
            "chapter": {"type": ["string", "null"]}, "text": {"type": "string"}, "score": {"type": "number"},
            "citation": {"type": "string"}, "level": {"type": ["string", "null"]},
            "region": {"type": ["string", "null"]}}}},
    },
}


class CheckBody(BaseModel):
    """A draft whose article citations are checked."""

    text: str = Field(description=f"the draft, plain text (at most {MAX_DRAFT_CHARS:,} characters)",
                      examples=["《杭州市质量促进办法》第十二条规定：“鼓励企业实施首席质量官制度”。湖北条例第五十条。"])


CHECK_RESPONSE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "citations": {"type": "array", "description": "in the order they appear in the draft", "items": {
            "type": "object", "properties": {
                "cited": {"type": "string", "description": "the citation as written"},
                "verdict": {"type": "string", "enum": list(VERDICTS)},
                "message": {"type": "string"}, "start": {"type": "integer"}, "end": {"type": "integer"},
                "title": {"type": ["string", "null"]}, "article": {"type": ["string", "null"]},
                "citation": {"type": ["string", "null"]}, "text": {"type": ["string", "null"],
                                                               "description": "the cited article, verbatim"},
                "article_count": {"type": ["integer", "null"]}, "closest": {"type": ["object", "null"]},
                "diff": {"type": ["array", "null"]}, "did_you_mean": {"type": "array", "items": {"type": "string"}},
            }}},
        "counts": {"type": "object", "properties": {v: {"type": "integer"} for v in VERDICTS}},
        "unattributed": {"type": "array", "description": "a bare 第X条 with no regulation named before it"},
        "truncated": {"type": "boolean", "description": f"only when a list held more than {MAX_REPORTED}: the "
                      "first ones are reported in full, counts cover all"},
        "citations_total": {"type": "integer", "description": "with truncated: citations in the draft"},
        "unattributed_total": {"type": "integer", "description": "with truncated: bare 第X条 in the draft"},
    },
}
FEEDBACK_BODY_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["question", "vote"],
    "properties": {
        "question": {"type": "string", "maxLength": MAX_QUESTION},
        "article_id": {"type": ["string", "null"], "description": "an article of the index; null for no answer"},
        "vote": {"type": "string", "enum": ["up", "down"]},
        "kind": {"type": "string", "enum": ["answer", "no_answer"],
                 "description": "default: answer with an article, no_answer without"},
    },
    "example": {"question": "企业要不要配专门管质量的人？", "article_id": "hubei-quality-promotion-2024#23-0",
                "vote": "up", "kind": "answer"},
}
ERROR_SCHEMA: dict[str, Any] = {"type": "object", "properties": {"error": {"type": "string"}}}


class ApiError(Exception):
    def __init__(self, status: int, message: str, retry_after_s: int | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.retry_after_s = retry_after_s


def error_response(status: int, message: str, retry_after_s: int | None = None) -> JSONResponse:
    headers = {"Retry-After": str(retry_after_s)} if retry_after_s is not None else None
    return JSONResponse({"error": message}, status_code=status, headers=headers)


def _status_of(exc: RegQAError) -> tuple[int, int | None]:
    if isinstance(exc, ServiceBusy):
        return 503, exc.retry_after_s
    if isinstance(exc, QueryTooLong):
        return 413, None
    if isinstance(exc, IndexFault | EmbedderError):
        return 503, UNAVAILABLE_RETRY_S
    return 400, None


def _error_responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    described = {400: "bad input", 413: "question, draft or body too long",
                 415: "the body is not sent as application/json",
                 429: "too many votes from this client (see Retry-After)",
                 503: "busy or index unavailable (see Retry-After)"}
    return {c: {"description": described[c], "content": {"application/json": {"schema": ERROR_SCHEMA}}}
            for c in codes}


def build_api(service: SearchService, title: str = "法规条文检索 API · Regulation search API") -> FastAPI:
    """A FastAPI app with the JSON routes; mount the page on it (`gr.mount_gradio_app(app, page, "/")`)."""
    # docs_url=None: FastAPI's own /docs loads its script from a CDN; add_docs serves it from the app.
    app = FastAPI(title=title, version="1", docs_url=None, redoc_url=None, openapi_url="/openapi.json",
                  description=__doc__.split("\n\n", 1)[1])
    add_docs(app)

    @app.exception_handler(ApiError)
    async def _api_error(request: Request, exc: ApiError) -> JSONResponse:
        return error_response(exc.status, str(exc), exc.retry_after_s)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        return error_response(400, _validation_message(exc))

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        response = error_response(exc.status_code, str(exc.detail))
        for name, value in (exc.headers or {}).items():
            response.headers[name] = value
        return response

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.error("API request failed", exc_info=exc)
        return error_response(500, INTERNAL_ERROR)

    async def answer(question: Any, k: Any, mode: Any, regulation: Any, history: Any = None, level: Any = None,
                     region: Any = None, as_of: Any = None, all_versions: Any = None) -> JSONResponse:
        from retrieval.in_force import annotate, as_flag, as_of_date, regulation_filter

        try:
            if mode is not None and not isinstance(mode, str):
                raise QueryError("mode 须为 hybrid、dense 或 lexical (mode must be hybrid, dense or lexical)")
            if history is not None and not (isinstance(history, list) and all(isinstance(h, str) for h in history)):
                raise QueryError("history 须为问题列表 (history must be a list of earlier questions)")
            regulations = _regulations(regulation)
            day, every = as_of_date(as_of), as_flag(all_versions)
            eng = await run_in_threadpool(service.engine)
            regulations = regulation_filter(eng.retriever.index, regulations, day, every,
                                            question if isinstance(question, str) else None)
            found = await service.converse_async(question, history, as_k(k, DEFAULT_K), mode or "hybrid",
                                                 regulations, level, region)
        except RegQAError as exc:
            status, retry = _status_of(exc)
            return error_response(status, str(exc), retry)
        except Exception:
            log.exception("search failed")
            return error_response(500, INTERNAL_ERROR)
        body = annotate(response_json(found.response, found.understood if history else None),
                        found.engine.retriever.index, day)
        return JSONResponse(body, headers={"X-Cache": "hit" if found.cached else "miss"})

    @app.get("/api/search", tags=["search"], summary="Find the articles that answer a question",
             response_description="the JSON of `python -m retrieval search --json`",
             responses={200: {"content": {"application/json": {"schema": SEARCH_RESPONSE_SCHEMA}}},
                        **_error_responses(400, 413, 503)})
    async def search_get(
        q: Annotated[str, Query(description="the question, in plain words (at most 1,000 characters)",
                                examples=["湖北条例第二十三条"])],
        k: Annotated[str | None, Query(description=f"number of articles, 1–50 (default {DEFAULT_K})")] = None,
        mode: Annotated[str | None, Query(description="hybrid (default), dense or lexical")] = None,
        regulation: Annotated[list[str] | None,
                              Query(description="search only these regulations; may repeat")] = None,
        history: Annotated[list[str] | None,
                           Query(description="the conversation's earlier questions, oldest first; may repeat")] = None,
        level: Annotated[list[str] | None,
                         Query(description="search only regulations of this level (法律, 地方性法规 …); "
                                           "may repeat")] = None,
        region: Annotated[list[str] | None,
                          Query(description="search only regulations of this region (浙江省; 全国: national); "
                                            "may repeat")] = None,
        as_of: Annotated[str | None, Query(description="the versions in force on this day, YYYY-MM-DD "
                                                       "(default: today)")] = None,
        all_versions: Annotated[str | None, Query(description="true: search every version")] = None,
    ) -> JSONResponse:
        return await answer(q, k, mode, regulation, history, level, region, as_of, all_versions)

    @app.post("/api/search", tags=["search"], summary="Find the articles that answer a question (JSON body)",
              response_description="the JSON of `python -m retrieval search --json`",
              openapi_extra={"requestBody": {"required": True, "content": {
                  "application/json": {"schema": SEARCH_BODY_SCHEMA}}}},
              responses={200: {"content": {"application/json": {"schema": SEARCH_RESPONSE_SCHEMA}}},
                         **_error_responses(400, 413, 415, 503)})
    async def search_post(request: Request) -> JSONResponse:
        body = await _json_body(request)
        if "q" not in body:
            raise ApiError(400, "请提供问题 q (the body needs a question: {\"q\": ...})")
        return await answer(body["q"], body.get("k"), body.get("mode"), body.get("regulation"), body.get("history"),
                            body.get("level"), body.get("region"), body.get("as_of"), body.get("all_versions"))

    @app.get("/api/regulations", tags=["index"], summary="The regulations in the index",
             response_description="the JSON of `python -m ingest list --json`", responses=_error_responses(503))
    async def regulations() -> JSONResponse:
        try:
            eng = await run_in_threadpool(service.engine)
        except RegQAError as exc:
            return error_response(503, str(exc), UNAVAILABLE_RETRY_S)
        return JSONResponse({"regulations": eng.rows})

    @app.get("/api/health", tags=["index"], summary="Whether the index is loaded, which build, how busy",
             responses=_error_responses(503))
    async def health() -> JSONResponse:
        try:
            eng = await run_in_threadpool(service.engine)
        except RegQAError as exc:  # no index loaded: a balancer's health check sees 503
            return error_response(503, str(exc), UNAVAILABLE_RETRY_S)
        index = eng.retriever.index
        return JSONResponse({
            "status": "ok", "index_loaded": True, "build": index.path.name, "model": index.model_id,
            "engine": getattr(eng.retriever.embedder, "engine", None),
            "regulations": len(index.regulations), "articles": len(index.articles),
            "pool": service.pool.stats(), "cache": {k: v for k, v in service.cache.stats().items() if k != "build"},
        })

    checks = CitationChecks.of(service)

    @app.post("/api/check", tags=["check"], summary="Check the article citations in a draft",
              response_description="the JSON of `python -m retrieval check --json`",
              openapi_extra={"requestBody": {"required": True, "content": {
                  "application/json": {"schema": CheckBody.model_json_schema()}}}},
              responses={200: {"content": {"application/json": {"schema": CHECK_RESPONSE_SCHEMA}}},
                         **_error_responses(400, 413, 415, 503)})
    async def check(request: Request) -> JSONResponse:
        body = await _json_body(request, MAX_CHECK_BODY_BYTES)
        try:
            draft = CheckBody.model_validate(body, strict=True).text
        except ValidationError:
            raise ApiError(400, '请提供文字草稿 text (the body needs the draft as text: {"text": ...})') from None
        try:
            report = await checks.check_async(draft)
        except RegQAError as exc:
            status, retry = _status_of(exc)
            return error_response(status, str(exc), retry)
        return JSONResponse(bounded_report(report.to_json()))

    writing = threading.BoundedSemaphore(FEEDBACK_AT_ONCE)
    votes = RateLimit(service.settings.feedback_per_minute)

    @app.post("/api/feedback", tags=["feedback"], summary="Record a 👍/👎 on an answer or on \"no answer\"",
              openapi_extra={"requestBody": {"required": True, "content": {
                  "application/json": {"schema": FEEDBACK_BODY_SCHEMA}}}},
              responses=_error_responses(400, 413, 415, 429, 503))
    async def feedback(request: Request) -> JSONResponse:
        if service.feedback is None:
            return error_response(503, "反馈未启用 (feedback is not recorded on this server)")
        body = await _json_body(request)
        try:
            eng = await run_in_threadpool(service.engine)
        except RegQAError as exc:
            return error_response(503, str(exc), UNAVAILABLE_RETRY_S)
        fields = _feedback_fields(body, eng.retriever)
        wait = votes.retry_after(request.client.host if request.client else "")  # only votes that would be written
        if wait:
            return error_response(429, "反馈太频繁，请稍后再试 (too many votes; please wait a moment)", wait)
        if not writing.acquire(blocking=False):
            return error_response(503, "服务器繁忙，请稍后再试 (busy; please try again)", 1)
        try:
            await run_in_threadpool(service.feedback.append, fields | {"build": eng.retriever.index.path.name})
        except OSError:
            log.exception("could not write feedback")
            return error_response(503, "反馈暂时无法记录 (feedback could not be saved)", UNAVAILABLE_RETRY_S)
        finally:
            writing.release()
        return JSONResponse({"ok": True})

    # Everything else under /api/ gets a JSON error too, not the page's 404 (the page is mounted at "/").
    known = {"search": "GET, POST", "regulations": "GET", "health": "GET", "feedback": "POST",
             "check": "POST"}

    @app.api_route("/api/{rest:path}", methods=["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"],
                   include_in_schema=False)
    async def unknown(rest: str) -> JSONResponse:
        allowed = known.get(rest.strip("/"))
        if allowed:
            response = error_response(405, "不支持此方法 (method not allowed)")
            response.headers["Allow"] = allowed
            return response
        return error_response(404, "没有这个接口 (no such API route); see /docs")

    return app


def is_json(content_type: str | None) -> bool:
    """application/json (any parameters) or a +json type: what a page on another site cannot send without the
    browser asking the server first (text/plain, a form or no type at all can be)."""
    media = (content_type or "").split(";", 1)[0].strip().lower()
    return media == "application/json" or (media.startswith("application/") and media.endswith("+json"))


def bounded_report(report: dict[str, Any], limit: int = MAX_REPORTED) -> dict[str, Any]:
    """A check's JSON with at most `limit` citations and bare 第X条 in full; the rest only counted, so a draft of
    thousands of citations cannot make an answer many times its own size. Unchanged when nothing is cut."""
    citations, unattributed = report["citations"], report["unattributed"]
    if len(citations) <= limit and len(unattributed) <= limit:
        return report
    return {**report, "citations": citations[:limit], "unattributed": unattributed[:limit], "truncated": True,
            "citations_total": len(citations), "unattributed_total": len(unattributed)}


async def _json_body(request: Request, limit: int = MAX_BODY_BYTES) -> dict[str, Any]:
    if not is_json(request.headers.get("content-type")):
        raise ApiError(415, NOT_JSON)
    too_large = f"请求太大 (request body too large: at most {limit} bytes)"
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise ApiError(413, too_large)
    raw = bytearray()
    async for chunk in request.stream():
        raw += chunk
        if len(raw) > limit:
            raise ApiError(413, too_large)
    try:
        body = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise ApiError(400, "请求须为 JSON 对象 (the body must be a JSON object)") from None
    if not isinstance(body, dict):
        raise ApiError(400, "请求须为 JSON 对象 (the body must be a JSON object)")
    return body


def _feedback_fields(body: dict[str, Any], retriever: Any) -> dict[str, Any]:
    """The log record of a vote, checked; ApiError(400) names what is wrong."""
    from retrieval.serving.feedback import event

    question, vote, aid = body.get("question"), body.get("vote"), body.get("article_id")
    if not isinstance(question, str) or not question.strip():
        raise ApiError(400, "请提供问题 question (the vote needs its question)")
    if len(question) > MAX_QUESTION:
        raise ApiError(400, f"问题太长 (question: at most {MAX_QUESTION} characters)")
    if vote not in ("up", "down"):
        raise ApiError(400, "vote 须为 up 或 down (vote must be up or down)")
    kind = body.get("kind") or ("answer" if aid is not None else "no_answer")
    if kind not in ("answer", "no_answer"):
        raise ApiError(400, "kind 须为 answer 或 no_answer (kind must be answer or no_answer)")
    article = None
    if aid is not None:
        found = retriever.article_by_id(aid) if isinstance(aid, str) else None
        if found is None:
            raise ApiError(400, "没有这个条文 (article_id is not an article of the index)")
        article = found.citation
    if (kind == "answer") != (article is not None):
        raise ApiError(400, "answer 须附 article_id，no_answer 不附 (answer needs an article_id; no_answer has none)")
    return event(kind, question, "", vote=vote, article_id=aid, article=article)


def _regulations(value: Any) -> list[str] | None:
    if value is None or value == "":
        return None
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return [v for v in value if v] or None
    raise QueryError("regulation 须为法规名称或名称列表 (regulation must be a name or a list of names)")


def _validation_message(exc: RequestValidationError) -> str:
    parts = []
    for err in exc.errors()[:3]:
        where = ".".join(str(p) for p in err.get("loc", ()) if p not in ("query", "body"))
        what = "is required" if err.get("type") == "missing" else err.get("msg", "is not valid")
        parts.append(f"{where} {what}".strip())
    return "; ".join(parts) or "bad request"
