"""Imports run one way: the page and serving above the conversation and the checker, those above the ranking
core, the core above ingest; inside ingest, reading documents apart from the stores. Read from the import
graph of the source (every `import`, also those inside functions), so a new upward arrow fails here."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.conftest import ROOT

# The room a module lives in, and the rooms it may import from (besides its own).
ROOMS: dict[str, set[str]] = {
    "ingest": {"ingest.stores"},  # reading, parsing, chunking, embedding, the build (see STORE_USERS)
    "ingest.stores": {"ingest"},  # but only ingest's shared records and helpers (see DOCUMENT_SIDE)
    "retrieval": {"ingest", "ingest.stores"},  # the ranking core
    "retrieval.versions": {"retrieval", "ingest", "ingest.stores"},
    "retrieval.conversation": {"retrieval", "ingest", "ingest.stores"},
    "retrieval.checker": {"retrieval.versions", "retrieval", "ingest", "ingest.stores"},
    "retrieval.serving": {"retrieval.conversation", "retrieval.checker", "retrieval.versions", "retrieval", "ingest",
                          "ingest.stores"},
    "retrieval.web": {"retrieval.serving", "retrieval.conversation", "retrieval.checker", "retrieval.versions",
                      "retrieval", "ingest", "ingest.stores"},
}
# Edges that may import any room: the command lines and the app (app.py is outside the packages).
EDGES = {"retrieval.__main__", "ingest.__main__"}
# The build writes the stores and the catalog reads an index's rows from them; reading and parsing never do.
STORE_USERS = {"ingest.build", "ingest.catalog"}
# What reads and parses documents, and the build above it: the stores never import these.
DOCUMENT_SIDE = {"ingest.read", "ingest.parse", "ingest.sources", "ingest.chunk", "ingest.build", "ingest.catalog"}


def room_of(module: str) -> str:
    parts = module.split(".")
    for n in (2, 1):
        if ".".join(parts[:n]) in ROOMS and (n == 1 or len(parts) > n or module in ROOMS):
            return ".".join(parts[:n])
    raise AssertionError(f"{module} is in no room")


def _modules() -> dict[str, Path]:
    found = {}
    for package in ("ingest", "retrieval"):
        for path in (ROOT / package).rglob("*.py"):
            rel = path.relative_to(ROOT).with_suffix("")
            name = ".".join(rel.parts)
            found[name.removesuffix(".__init__")] = path
    return found


def _imports(module: str, path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    out: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            out.add(base)
            out.update(f"{base}.{a.name}" for a in node.names)  # `from retrieval import web` names a module
    return out


MODULES = _modules()


def _arrows() -> list[tuple[str, str]]:
    arrows = []
    for module, path in MODULES.items():
        for target in _imports(module, path):
            if target in MODULES and target != module:
                arrows.append((module, target))
    return arrows


def upward(arrows: list[tuple[str, str]]) -> list[str]:
    wrong = []
    for source, target in arrows:
        if source in EDGES:
            continue
        s, t = room_of(source), room_of(target)
        if t == s or t in ROOMS[s]:
            if s == "ingest" and t == "ingest.stores" and source not in STORE_USERS:
                wrong.append(f"{source} → {target} (reading documents never touches the stores)")
            elif s == "ingest.stores" and target in DOCUMENT_SIDE:
                wrong.append(f"{source} → {target} (a store never reads documents)")
            continue
        wrong.append(f"{source} ({s}) → {target} ({t})")
    return sorted(wrong)


def test_every_package_module_has_a_room():
    assert {room_of(m) for m in MODULES} == set(ROOMS)


def test_no_module_imports_a_room_above_it():
    assert upward(_arrows()) == []


def test_each_room_says_what_it_owns_and_may_import():
    for room in ROOMS:
        doc = ast.get_docstring(ast.parse((ROOT / room.replace(".", "/") / "__init__.py").read_text("utf-8")))
        assert doc and "import" in doc, room


@pytest.mark.parametrize("arrow, room", [
    (("retrieval.retriever", "retrieval.conversation.followup"), "core → conversation"),
    (("retrieval.checker.check", "retrieval.serving.service"), "checker → serving"),
    (("retrieval.conversation.compare", "retrieval.checker.quotes"), "conversation → checker"),
    (("retrieval.serving.http_api", "retrieval.web.cards"), "serving → page"),
    (("ingest.stores.index_io", "retrieval.results"), "stores → retrieval"),
    (("ingest.parse", "ingest.stores.faiss_store"), "parser → stores"),
    (("ingest.stores.faiss_store", "ingest.sources"), "store → documents"),
])
def test_an_upward_arrow_is_caught(arrow, room):
    assert upward([arrow]), room


def test_the_graph_is_read_from_real_imports():
    arrows = set(_arrows())
    # a module-level import, one inside a function, and a relative-free `from package import module`
    assert ("retrieval.retriever", "retrieval.fuse") in arrows
    assert ("retrieval.serving.service", "retrieval.conversation.followup") in arrows
    assert ("retrieval.web.check_tab", "retrieval.web") in arrows


def test_app_py_is_wiring_only():
    """app.py builds the Blocks and the server from the parts: no HTML, no formatting, no search of its own."""
    tree = ast.parse((ROOT / "app.py").read_text(encoding="utf-8"))
    functions = {n.name for n in tree.body if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)}
    assert functions <= {"index_dir", "serving_settings", "build", "page_options", "server", "main"}, functions
    imported = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    imported |= {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}
    assert not imported & {"html", "datetime", "urllib.parse", "retrieval.retriever", "retrieval.conversation.compare"}
    strings = [n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and isinstance(n.value, str)]
    assert not [s for s in strings if "<div" in s or "<span" in s or "<a " in s]
