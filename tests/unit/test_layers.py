"""Where a transaction may end: the request's session dependency and the background jobs.

A request commits once, in `app.db.get_session`, so that everything a request changes
is kept together or not at all; services only flush. Work outside any request (email
delivery, digests, the sweep, the scheduler's locks, recording policy versions) owns
its transactions in `app/jobs/`. Anywhere else, a `commit()` could keep half of a
request's changes and a `rollback()` could silently drop changes made before it.

The source is parsed, not searched, so a commit named in a comment or a string does
not count; any call of a method named `commit` or `rollback` does, whatever it is
called on (a session, a connection, a transaction).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from app.settings import PROJECT_ROOT

APP = PROJECT_ROOT / "app"
ENDING_CALLS = frozenset({"commit", "rollback"})

# Where transactions are meant to end: the request's session dependency, and the jobs.
SESSION_DEPENDENCY = "app/db.py"
JOBS = "app/jobs/"

def _relative(path: Path) -> str:
    return path.relative_to(PROJECT_ROOT).as_posix()


def ending_calls(source: str) -> list[tuple[int, str]]:
    """(line, method) for every call of a method named commit or rollback in `source`."""
    return sorted(
        (node.lineno, node.func.attr)
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr in ENDING_CALLS
    )


def _found() -> dict[str, list[tuple[int, str]]]:
    found: dict[str, list[tuple[int, str]]] = {}
    for path in sorted(APP.rglob("*.py")):
        calls = ending_calls(path.read_text(encoding="utf-8"))
        if calls:
            found[_relative(path)] = calls
    return found


def _owned(module: str) -> bool:
    return module == SESSION_DEPENDENCY or module.startswith(JOBS)


def test_parsing_counts_calls_not_words() -> None:
    source = (
        "# session.commit() in a comment\n"
        "note = 'then session.rollback()'\n"
        "session.commit()\n"
        "conn.rollback()\n"
        "commit()\n"  # a bare function, not a method on a session or connection
    )
    assert ending_calls(source) == [(3, "commit"), (4, "rollback")]


def test_transactions_end_only_in_the_session_dependency_and_jobs() -> None:
    stray = {module: calls for module, calls in _found().items()
             if not _owned(module)}
    assert stray == {}, (
        "commit()/rollback() outside app/db.py and app/jobs/: a request commits once, in "
        "the session dependency, so services only flush; work outside a request belongs "
        f"in app/jobs/. Found: {stray}"
    )


# ---- where the database is asked: app/repositories/ -------------------------------------
#
# Every query of the application lives in app/repositories/, one module per aggregate, so
# that each predicate ("open on", "held on", "current enrolment", "terms on") is written
# once and nothing reads today's value where a date's value is asked for. A query is any
# call of a method named exec, execute, scalar or scalars (whatever it is called on), any
# call of `select` imported from sqlmodel or sqlalchemy, and `.get(Model, ...)` on a
# session (a model imported from app.models, or a receiver named `session`).

REPOSITORIES = "app/repositories/"
QUERY_METHODS = frozenset({"exec", "execute", "scalar", "scalars"})
QUERY_LIBRARIES = ("sqlmodel", "sqlalchemy")

# Modules that ask the database themselves by design, and why.
QUERY_OWNERS: dict[str, str] = {
    # Session infrastructure: SQLite's connection pragmas and the `SELECT 1` health check.
    "app/db.py": "session infrastructure",
    # Alembic: reads the schema version it migrates from.
    "app/migrate.py": "migrations",
    # Backup and restore: copies every table, below any aggregate.
    "app/backup.py": "backup tooling",
    # The demo's bulk loader and its fingerprint of a whole organisation's data.
    "app/demo/loader.py": "demo bulk loading",
    "app/demo/summary.py": "demo data summary",
}

def _query_library(module: str | None) -> bool:
    return module is not None and module.split(".")[0] in QUERY_LIBRARIES


def query_calls(source: str) -> list[tuple[int, str]]:
    """(line, what) for every query call in `source`: see the comment above."""
    tree = ast.parse(source)
    selects: set[str] = set()  # names bound to sqlmodel's or sqlalchemy's select
    libraries: set[str] = set()  # names bound to those packages (`import sqlalchemy as sa`)
    models: set[str] = set()  # names imported from app.models
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            for alias in node.names:
                bound = alias.asname or alias.name
                if _query_library(node.module) and alias.name == "select":
                    selects.add(bound)
                elif node.module is not None and (
                    node.module == "app.models" or node.module.startswith("app.models.")
                ):
                    models.add(bound)
        elif isinstance(node, ast.Import):
            libraries.update(alias.asname or alias.name.split(".")[0]
                             for alias in node.names if _query_library(alias.name))
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        if isinstance(func, ast.Name) and func.id in selects:
            found.append((node.lineno, "select"))
        elif isinstance(func, ast.Attribute):
            if func.attr in QUERY_METHODS:
                found.append((node.lineno, func.attr))
            elif (func.attr == "select" and isinstance(func.value, ast.Name)
                  and func.value.id in libraries):
                found.append((node.lineno, "select"))
            elif func.attr == "get" and (
                (isinstance(func.value, ast.Name) and func.value.id.endswith("session"))
                or (node.args and isinstance(node.args[0], ast.Name)
                    and node.args[0].id in models)
            ):
                found.append((node.lineno, "get"))
    return sorted(found)


def _queries_found() -> dict[str, list[tuple[int, str]]]:
    found: dict[str, list[tuple[int, str]]] = {}
    for path in sorted(APP.rglob("*.py")):
        module = _relative(path)
        if module.startswith(REPOSITORIES):
            continue
        calls = query_calls(path.read_text(encoding="utf-8"))
        if calls:
            found[module] = calls
    return found


def test_query_parsing_counts_calls_not_words() -> None:
    source = (
        "import sqlalchemy as sa\n"
        "from sqlmodel import select\n"
        "from sqlalchemy import select as sa_select\n"
        "from app.models import Staff\n"
        "# session.exec(select(Staff)) in a comment\n"
        "note = 'session.get(Staff, 1) in a string'\n"
        "session.exec(select(Staff))\n"
        "conn.execute(sa_select(Staff.id)).scalar()\n"
        "person = db.get(Staff, 1)\n"
        "team = session.get(Team, 2)\n"
        "rows = sa.select(Staff)\n"
        "value = settings.get('key', None)\n"
        "bind = session.get_bind()\n"
        "def pick(): ...\n"
        "pick()\n"
    )
    assert query_calls(source) == [
        (7, "exec"), (7, "select"), (8, "execute"), (8, "scalar"), (8, "select"),
        (9, "get"), (10, "get"), (11, "select"),
    ]
    # A `select` that is not the database's is not a query.
    assert query_calls("from selectors import select\nselect(['a', 'b'])\n") == []


def test_queries_only_in_repositories() -> None:
    stray = {module: calls for module, calls in _queries_found().items()
             if module not in QUERY_OWNERS}
    assert stray == {}, (
        "select/session.get/exec/execute outside app/repositories/: ask the repository of "
        "the aggregate (add a function named for the domain there, reusing its predicates). "
        f"Found: {stray}"
    )


@pytest.mark.parametrize("module", sorted(QUERY_OWNERS))
def test_query_owners_exist(module: str) -> None:
    """An exception that names no module would hide a move: each one is a real file."""
    assert (PROJECT_ROOT / module).is_file(), f"{module} is gone: remove it from QUERY_OWNERS"
