"""Domain exceptions. The command line and the web app turn each into one clear message."""

from __future__ import annotations


class RegQAError(Exception):
    """Base class: anything a user can cause and we can explain in one sentence."""


class SourceError(RegQAError):
    """A source document cannot be read or yields no usable articles. The message names the file."""


class IndexFault(RegQAError):
    """The index directory is missing, damaged, or does not match the current settings."""


class EmbedderError(RegQAError):
    """The embedding model cannot be loaded or does not match the one the index was built with."""


class QueryError(RegQAError):
    """The question cannot be searched (empty, too long, ...)."""


class QuestionFileError(RegQAError):
    """An evaluation question file is malformed or refers to articles the index does not hold."""

