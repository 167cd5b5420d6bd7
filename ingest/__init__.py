"""Ingest: regulation documents in, an index directory out.

Owns reading documents (read: text, docx, pdf; sources: `.meta.json`, article JSONL; collect: recursive discovery,
versions, skipped documents; the library: snapshot, markdown, library_meta), parsing them into records (parse,
labels, numerals, words, schema), chunking (chunk), embedding (embed, bundled, embed_cache), the build (build),
the regulation rows of `ingest list` (catalog), paths and domain errors (paths, errors). The stores and index files
live in `ingest.stores`.

May import: nothing of `retrieval`. Reading and parsing never import `ingest.stores`; the build writes the stores
and the catalog reads an index's records from them.
"""
