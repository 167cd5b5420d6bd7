"""Versions: which text of a regulation is in force, and the old beside the new.

Owns the search's version filter and the results' version keys (in_force: in force today or on a day, every
version, the version a question names; `version`, `status`, `current` on each result), the pairing of two versions'
articles by text (pairs: renumbered articles pair up, words changed marked) and the report of a regulation's
versions (report: `python -m retrieval versions`). Versions and statuses themselves are read at ingest
(`ingest.versions`).

May import: the ranking core (`retrieval`) and `ingest`. The checker, serving and the page import it; it imports
none of them.
"""
