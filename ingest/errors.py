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


class GlossaryError(RegQAError):
    """The English-Chinese glossary file cannot be read or has a malformed line."""



class QueryTooLong(QueryError):
    """The question is longer than a question can be (the API answers 413)."""


class ServiceBusy(RegQAError):
    """Every search slot is taken: the user is told to try again in a moment."""

    def __init__(self, message: str, retry_after_s: int = 1) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s
