"""The stores and the index files: where a build's vectors, words and records live, and how they are read back.

Owns the vector-store protocol (vector_store), FAISS (faiss_store, the only module that imports faiss), Milvus
(milvus_store, milvus_client, milvus_catalog), the lexical index (lexical_index: bm25s or Milvus's BM25) and the
index directory (index_io: manifest, checksums, builds switched in atomically, the build lock).

May import: `ingest`'s shared records and helpers (schema, errors, paths, words, embed). Reading and parsing
documents (read, parse, sources, chunk) never imports a store; only the build (`ingest.build`) writes them.
"""
