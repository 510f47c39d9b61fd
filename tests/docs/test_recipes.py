"""The commands in README.md and docs/*.md work as written, on SQLite and PostgreSQL.

Every fenced shell block (```sh, ```bash, ```shell, ```console) in the documents says on
the line just before it whether it is run here:

    <!-- runnable -->
    <!-- not runnable: why (e.g. "ringfence serve runs until stopped") -->

(HTML comments, so GitHub shows nothing of them.) A shell block without either fails the
suite, so no command escapes silently; a block without a language that starts with a
command must say which language it is (`text` for a synopsis).

The runnable blocks of one document run in order, in one bash process with `set -euo
pipefail`, against what `make run` leaves behind, made fresh for the document: a migrated
database on the backend under test with the demo organisation loaded, and the service
answering. The only change made to a block is the address: `http://127.0.0.1:8000`, where
the documents say the service is, becomes the test server's. The shell has the
`RINGFENCE_*` settings the server has (so `ringfence` commands use the same database, as
they do beside `make run`), a `PATH` with the project's `.venv/bin` first (as after
`source .venv/bin/activate`, which the README asks for) and otherwise only a handful of
basic tools: a recipe that needs anything else the project does not install (`jq`,
`sqlite3`, `psql`) fails here. A ```sh block is also parsed by `/bin/sh -n`, so bash-only
syntax is marked ```bash.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from app.clock import today
from app.demo.service import load_demo
from app.settings import PROJECT_ROOT, Settings
from tests.support.live_server import live_server

DOCUMENTS = (PROJECT_ROOT / "README.md", *sorted((PROJECT_ROOT / "docs").glob("*.md")))
SHELL_LANGUAGES = {"sh", "bash", "shell", "console"}
DOCUMENTED_ADDRESS = "http://127.0.0.1:8000"
RUNNABLE = re.compile(r"^<!--\s*runnable\s*-->$")
NOT_RUNNABLE = re.compile(r"^<!--\s*not runnable:\s*(?P<reason>.*?)\s*-->$")
FENCE = re.compile(r"^(?P<indent>\s*)(?P<fence>`{3,}|~{3,})(?P<info>.*)$")
COMMAND_START = re.compile(r"^(\$ |ringfence |make |curl |\.venv/bin/|python3? )")

# Tools the recipes may use besides the project's own .venv/bin: the shell and what every
# machine that can run `make run` has.
BASIC_TOOLS = (
    "bash", "sh", "curl", "cat", "cp", "cut", "date", "dirname", "echo", "env", "find",
    "grep", "head", "ls", "mkdir", "mktemp", "mv", "printf", "rm", "sed", "sleep",
    "sort", "tail", "test", "tr", "true", "false", "wc",
)


@dataclass(frozen=True)
class Block:
    """One fenced block of a document and what the line before it says about running it."""

    document: Path
    line: int  # of the opening fence, 1-based
    language: str
    text: str
    runnable: bool
    reason: str | None  # why not, when a "not runnable" marker says so

    @property
    def where(self) -> str:
        return f"{self.document.relative_to(PROJECT_ROOT)}:{self.line}"

    @property
    def marked(self) -> bool:
        return self.runnable or self.reason is not None


def blocks(document: Path) -> list[Block]:
    """The fenced blocks of a Markdown document, in order."""
    found: list[Block] = []
    lines = document.read_text().splitlines()
    index = 0
    while index < len(lines):
        opening = FENCE.match(lines[index])
        if opening is None:
            index += 1
            continue
        fence, start = opening["fence"], index
        index += 1
        body: list[str] = []
        while index < len(lines) and not lines[index].strip().startswith(fence):
            body.append(lines[index])
            index += 1
        index += 1  # past the closing fence
        marker = lines[start - 1].strip() if start > 0 else ""
        not_runnable = NOT_RUNNABLE.match(marker)
        found.append(Block(
            document=document, line=start + 1,
            language=opening["info"].strip().split(" ")[0].lower(),
            text="\n".join(body) + "\n",
            runnable=RUNNABLE.match(marker) is not None,
            reason=not_runnable["reason"] if not_runnable else None,
        ))
    return found


def _document_id(document: Path) -> str:
    return str(document.relative_to(PROJECT_ROOT))


@pytest.mark.parametrize("document", DOCUMENTS, ids=_document_id)
def test_every_shell_block_says_whether_it_runs(document: Path) -> None:
    problems: list[str] = []
    for block in blocks(document):
        if block.language in SHELL_LANGUAGES:
            if not block.marked:
                problems.append(f"{block.where}: a {block.language} block needs "
                                "<!-- runnable --> or <!-- not runnable: why --> before it")
            elif block.reason == "":
                problems.append(f"{block.where}: say why the block is not runnable")
        elif block.marked:
            problems.append(f"{block.where}: only sh/bash blocks are run; this one is "
                            f"{block.language or 'untyped'}")
        elif not block.language and any(COMMAND_START.match(line) for line in
                                        block.text.splitlines()):
            problems.append(f"{block.where}: a block of commands needs a language: sh or "
                            "bash (and a marker), or text for a synopsis")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("document", DOCUMENTS, ids=_document_id)
def test_sh_blocks_are_plain_sh(document: Path) -> None:
    """Bash-only syntax (arrays, `<<<`, `[[`) in a block that says sh fails for a reader
    whose shell is sh; such a block says bash."""
    for block in blocks(document):
        if block.language == "sh":
            checked = subprocess.run(["/bin/sh", "-n"], input=block.text, text=True,
                                     capture_output=True, check=False)
            assert checked.returncode == 0, f"{block.where}: not sh: {checked.stderr}"


def _runnable_documents() -> list[Path]:
    return [doc for doc in DOCUMENTS if any(block.runnable for block in blocks(doc))]


def _tools_path(directory: Path) -> str:
    """A PATH of the project's .venv/bin and the basic tools only."""
    directory.mkdir()
    for name in BASIC_TOOLS:
        found = shutil.which(name)
        if found:
            (directory / name).symlink_to(found)
    return f"{Path(sys.executable).parent}{os.pathsep}{directory}"


def _script(document: Path, base_url: str) -> str:
    parts = ["set -euo pipefail\n"]
    for block in blocks(document):
        if block.runnable:
            parts.append(f"echo '--- {block.where}' >&2\n")
            parts.append(block.text.replace(DOCUMENTED_ADDRESS, base_url))
    return "".join(parts)


@pytest.mark.parametrize("document", _runnable_documents(), ids=_document_id)
def test_runnable_blocks_work_as_written(
    document: Path, fresh_database_url: str, tmp_path: Path
) -> None:
    """What `make run` leaves (migrated, the demo loaded, serving), then the blocks in order;
    the shell's output names each block as it starts, so a failure says which one."""
    data_dir, work_dir = tmp_path / "data", tmp_path / "work"
    data_dir.mkdir()
    work_dir.mkdir()
    settings = {"RINGFENCE_DATABASE_URL": fresh_database_url,
                "RINGFENCE_DATA_DIR": str(data_dir),
                "RINGFENCE_SCHEDULER_ENABLED": "false"}
    shell_env = {**{k: v for k, v in os.environ.items() if not k.startswith("RINGFENCE_")},
                 **settings, "PATH": _tools_path(tmp_path / "bin")}
    # `ringfence demo --if-empty`, as `make run` does, without starting a process for it.
    load_demo(Settings(database_url=fresh_database_url, data_dir=data_dir,
                       scheduler_enabled=False), as_of=today(), if_empty=True)
    with live_server(fresh_database_url, data_dir, env=settings) as server:
        shell_env["RINGFENCE_BASE_URL"] = server.base_url
        ran = subprocess.run(["/bin/bash", "-c", _script(document, server.base_url)],
                             cwd=work_dir, env=shell_env, text=True, capture_output=True,
                             timeout=240, check=False)
        log = server.log()
    assert ran.returncode == 0, (
        f"{_document_id(document)}: exit {ran.returncode}\n--- stderr\n{ran.stderr[-4000:]}"
        f"\n--- stdout\n{ran.stdout[-4000:]}\n--- server log\n{log[-2000:]}"
    )
