"""Serving: the search service shared by the page and the JSON API, and the API itself.

Owns the service (service: engines per index, settings from REGQA_* variables, the answer path), the batching
embedder (batcher), the bounded search pool (admission), the answer cache (answer_cache), the JSON API and its
offline /docs (http_api, api_docs), the feedback logs (feedback) and the rate of votes per client (rate_limit),
the checker's service (check_service), the guard in front of the whole server (guard: host names, other sites'
pages, uploads, security headers) and the HTTP protocol's own errors as JSON (http_server).

May import: the conversation, the checker, the ranking core (`retrieval`) and `ingest`. Never the page (`web`).
"""
