"""Connections to Milvus: one client per URI per process, shared, released when the last user is gone.

A URI is either a server (`http://host:19530`, `https://…`, `tcp://…`) or a Milvus Lite database file
(`….db`), which pymilvus runs as a child process of this one. Lite's traps shape this module
(/work/shared/PITFALLS.md): one process per `.db` file (a second one cannot open it); two clients on one `.db`
in one process share a connection, so closing one breaks the other; `close()` does not stop the child. So
every user of a URI borrows the same client here, and the last one to let go closes it and, for Lite, stops
the child (`release_server`), which also releases the database file for other processes.

A server's token, if it needs one, comes from the environment (MILVUS_TOKEN, e.g. "user:password"); it is
never written into an index's manifest.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import threading
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ingest.errors import IndexFault

log = logging.getLogger(__name__)

SERVER_SCHEMES = ("http://", "https://", "tcp://", "grpc://", "unix:")
TOKEN_ENV = "MILVUS_TOKEN"
CONNECT_TIMEOUT_S = 10.0
INSTALL_HINT = ("install the Milvus client and embedded engine: "
                "pip install 'pymilvus>=2.5,<2.6' 'milvus-lite==2.5.1' 'setuptools<81'")

_lock = threading.Lock()
_clients: dict[str, tuple[Any, int]] = {}  # key -> (MilvusClient, users)
# A store lets go of its client from a weakref finalizer, which the garbage collector may run in the middle
# of acquire/release in the same thread (any allocation there can start a collection): waiting for _lock
# would then wait for itself. Such a release is noted here and carried out before that call returns.
_state = threading.local()  # .busy: this thread holds _lock inside acquire/release
_deferred: list[str] = []  # keys let go by finalizers while _lock was held (only touched under _lock)


@contextlib.contextmanager
def _locked() -> Iterator[None]:
    with _lock:
        _state.busy = True
        try:
            yield
        finally:
            try:
                while _deferred:
                    _let_go(_deferred.pop())
            finally:
                _state.busy = False


def is_server(uri: str) -> bool:
    return uri.startswith(SERVER_SCHEMES)


def key_of(uri: str) -> str:
    """One key per database: a Lite file by its absolute path, a server by its URI."""
    return uri if is_server(uri) else str(Path(uri).expanduser().resolve())


def pymilvus() -> Any:
    """The pymilvus module, or a clear message that it is missing."""
    try:
        with warnings.catch_warnings():  # milvus_lite imports pkg_resources, which warns that it is deprecated
            warnings.simplefilter("ignore")
            import pymilvus as module
    except ImportError as exc:
        raise IndexFault(f"this index is stored in Milvus, but pymilvus is not installed; {INSTALL_HINT}") from exc
    return module


def acquire(uri: str) -> Any:
    """The shared MilvusClient of a URI (opened now if nobody holds it); pair every call with `release`."""
    key = key_of(uri)
    with _locked():
        held = _clients.get(key)
        if held is not None:
            _clients[key] = (held[0], held[1] + 1)
            return held[0]
        client = _open(uri, key)
        _clients[key] = (client, 1)
        return client


def release(uri: str) -> None:
    key = key_of(uri)
    if getattr(_state, "busy", False):  # a finalizer run by the garbage collector inside acquire/release
        _deferred.append(key)
        return
    with _locked():
        _let_go(key)


def _let_go(key: str) -> None:
    """One user fewer of `key`'s client; the last one closes it (call with _lock held)."""
    held = _clients.get(key)
    if held is None:
        return
    client, users = held
    if users > 1:
        _clients[key] = (client, users - 1)
        return
    del _clients[key]
    _close(client, key)


def release_all() -> None:
    """Close every client this process holds (tests, and a builder handing its Lite files to other processes)."""
    with _locked():
        held = list(_clients.items())
        _clients.clear()
    for key, (client, _users) in held:
        _close(client, key)


def _open(uri: str, key: str) -> Any:
    pm = pymilvus()
    if is_server(uri):
        try:
            return pm.MilvusClient(uri=uri, token=os.environ.get(TOKEN_ENV, ""), timeout=CONNECT_TIMEOUT_S)
        except Exception as exc:  # unreachable, refused, bad token: one sentence for the user
            raise IndexFault(f"cannot reach Milvus at {uri}: {reason(exc)}") from exc
    path = Path(key)
    if not path.parent.is_dir():
        raise IndexFault(f"cannot open the Milvus Lite database {path}: its folder does not exist")
    if not path.name.endswith(".db"):
        raise IndexFault(f"a Milvus Lite database is a file ending in .db, not {path.name}")
    if _lite_in_use(path):
        raise IndexFault(
            f"cannot open the Milvus Lite database {path}: another process has it open (Milvus Lite serves one "
            "process per database file; stop that process, or build into a Milvus server with "
            "--milvus-uri http://host:19530)")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return pm.MilvusClient(uri=key)
    except Exception as exc:  # Lite says only "Open local milvus failed"
        raise IndexFault(f"cannot start Milvus Lite on {path}: {reason(exc)}") from exc


def _lite_in_use(path: Path) -> bool:
    """Does another process serve this Lite file? Lite locks `.<name>.lock` beside it while it runs (the
    same POSIX lock is tried here and let go at once; this process holds none on it, see `acquire`)."""
    lock = path.parent / f".{path.name}.lock"
    if not lock.exists():
        return False
    try:
        with lock.open("a") as fh:
            fcntl.lockf(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
            fcntl.lockf(fh, fcntl.LOCK_UN)
    except BlockingIOError:
        return True
    except OSError:  # unreadable lock file: let Lite say what it finds
        return False
    return False


def _close(client: Any, key: str) -> None:
    try:
        client.close()
    except Exception as exc:  # closing is best effort: the connection may already be gone
        log.debug("closing the Milvus client of %s: %s", key, exc)
    if not is_server(key):
        try:
            from milvus_lite.server_manager import server_manager_instance

            server_manager_instance.release_server(key)  # stops the child and frees the file for others
        except Exception as exc:  # the child also exits with this process
            log.debug("stopping Milvus Lite for %s: %s", key, exc)


def reason(exc: Exception) -> str:
    """The first line of a Milvus error, for a one-sentence message."""
    message = getattr(exc, "message", None) or str(exc) or type(exc).__name__
    return str(message).splitlines()[0][:300]
