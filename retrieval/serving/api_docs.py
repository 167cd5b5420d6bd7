"""The JSON API's Swagger UI page at /docs, served entirely by the app: no CDN, so it works offline.

FastAPI's own /docs loads swagger-ui from cdn.jsdelivr.net and its favicon from fastapi.tiangolo.com, so on a
machine without internet it is a blank page. Here the same page (`get_swagger_ui_html`) points at the
assets of the `fastapi-offline` package (swagger-ui 5, which reads the OpenAPI 3.1 that FastAPI writes),
served read-only from that package's folder at /docs/static/. ReDoc stays off: Swagger UI already shows
and tries every route, and a second renderer would be a second page to keep offline.
"""

from __future__ import annotations

import logging
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.staticfiles import StaticFiles

log = logging.getLogger(__name__)

DOCS_URL = "/docs"
# Under /docs/, not /api/ (the API's catch-all answers there) nor Gradio's /assets, /static (mounted at "/").
STATIC_URL = "/docs/static"
PACKAGE = "fastapi-offline>=1.7,<2"


def assets_dir() -> Path | None:
    """The folder of swagger-ui's script, stylesheet and favicon that `fastapi-offline` ships, or None."""
    try:
        import fastapi_offline
    except ImportError:
        return None
    folder = Path(fastapi_offline.__file__).resolve().parent / "static"
    return folder if (folder / "swagger-ui-bundle.js").is_file() else None


def add_docs(app: FastAPI) -> None:
    """Serve Swagger UI at /docs with its assets from the app (build the app with docs_url=None)."""
    folder = assets_dir()
    if folder is None:
        # The API works without its docs page; say what to install rather than fail the whole server.
        log.warning("the /docs page needs the %s package; /openapi.json still describes the API", PACKAGE)

        @app.get(DOCS_URL, include_in_schema=False)
        async def no_docs() -> JSONResponse:
            return JSONResponse({"error": f"API docs need the package `{PACKAGE}`; the spec is at /openapi.json"},
                                status_code=503)
        return

    # StaticFiles never lists a folder, refuses paths that leave it and does not follow symlinks out of it;
    # its 404s go through the API's JSON error handler, so no file-system path is ever shown.
    app.mount(STATIC_URL, StaticFiles(directory=folder), name="docs-static")

    @app.get(DOCS_URL, include_in_schema=False)
    async def docs(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "").rstrip("/")  # behind a proxy that strips a prefix
        return get_swagger_ui_html(
            openapi_url=f"{root}{app.openapi_url}", title=f"{app.title} · Docs",
            swagger_js_url=f"{root}{STATIC_URL}/swagger-ui-bundle.js",
            swagger_css_url=f"{root}{STATIC_URL}/swagger-ui.css",
            swagger_favicon_url=f"{root}{STATIC_URL}/favicon.png",
            # swagger-ui would otherwise send the spec to validator.swagger.io for a badge
            swagger_ui_parameters={"validatorUrl": None},
        )
