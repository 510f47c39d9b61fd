"""The engine stays pure: nothing under app/policy reaches the database or the services.

Rules see a snapshot and a date and nothing else; that is what lets them run in
microseconds, answer what-if questions and sweep a whole organisation. An import is the
first step away from that, so the imports themselves are checked.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import app.policy

PACKAGE = "app.policy"
ROOT = Path(app.policy.__file__).resolve().parent
FORBIDDEN = ("app.services", "app.db", "app.models", "app.clock", "sqlalchemy", "sqlmodel")


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join((PACKAGE, *parts))


def imported(path: Path) -> list[tuple[int, str]]:
    """Every module an import statement in `path` names, relative ones resolved."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{anchor}.{base}" if base else anchor
            # `from app import models` names app.models as surely as `import app.models`.
            found.append((node.lineno, base))
            found += [(node.lineno, f"{base}.{alias.name}") for alias in node.names]
    return found


def is_forbidden(module: str) -> bool:
    return any(module == prefix or module.startswith(f"{prefix}.") for prefix in FORBIDDEN)


def test_the_walk_sees_every_kind_of_import() -> None:
    # The checker itself: plain, from, relative and nested (TYPE_CHECKING) imports.
    sample = ROOT / "rules" / "supervision.py"
    names = {module for _, module in imported(sample)}
    assert {"app.policy.snapshot", "pydantic", "app.policy.policies"} <= names
    assert is_forbidden("app.services.entitlement") and is_forbidden("sqlmodel")
    assert not is_forbidden("app.policy.entitlement") and not is_forbidden("app.dbx")


def test_no_module_under_app_policy_imports_the_database_or_the_services() -> None:
    files = sorted(ROOT.rglob("*.py"))
    assert len(files) > 10
    offending: dict[str, str] = {}
    for path in files:
        for line, module in imported(path):
            if is_forbidden(module):
                offending.setdefault(f"{path.relative_to(ROOT.parent.parent)}:{line}", module)
    assert offending == {}


def test_importing_the_engine_loads_no_database_layer() -> None:
    # Catches what the statements above cannot: a permitted module that itself pulls
    # the database in. A fresh interpreter, so that other tests' imports do not count.
    code = (
        "import pkgutil, importlib, sys, app.policy\n"
        "for info in pkgutil.walk_packages(app.policy.__path__, 'app.policy.'):\n"
        "    importlib.import_module(info.name)\n"
        f"prefixes = {FORBIDDEN!r}\n"
        "loaded = sorted(m for m in sys.modules\n"
        "                if any(m == p or m.startswith(p + '.') for p in prefixes))\n"
        "print('\\n'.join(loaded))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True, cwd=ROOT.parent.parent)
    assert result.stdout.split() == []
