"""The conversation: a turn read against the questions before it, by fixed rules and no generation.

Owns follow-ups (followup: 那杭州呢, 下一条, the "understood" line and the reply's JSON), comparisons of one topic
across regulations (compare) and the page's article links (permalinks: `?a=hubei-23`).

May import: the ranking core (`retrieval`) and `ingest`. Never the checker, serving or the page.
"""
