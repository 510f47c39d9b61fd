"""`ringfence backup FILE` and `ringfence restore FILE`, for the configured database.

Both work on whichever database the settings name (SQLite or PostgreSQL), so a backup
recipe is the same two commands everywhere; app/backup.py holds how each is done. Every
failure is one line and exit status 1, so a cron job's mail says what went wrong.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import typer

_Result = TypeVar("_Result")


def _size(size_bytes: int) -> str:
    if size_bytes < 1000:
        return f"{size_bytes} bytes"
    value = float(size_bytes)
    for unit in ("kB", "MB", "GB"):
        value /= 1000
        if value < 1000 or unit == "GB":
            break
    return f"{value:.1f} {unit}"


def _run(verb: str, run: Callable[..., _Result], url: str, file: Path,
         pg_bin_dir: Path | None) -> _Result:
    """Run a backup or a restore; any failure is one line on stderr and exit status 1."""
    from sqlalchemy.exc import SQLAlchemyError

    from app.backup import BackupError
    from app.cli import database_failure

    try:
        return run(url, file, pg_bin_dir=pg_bin_dir)
    except BackupError as exc:
        typer.echo(f"ringfence: cannot {verb}: {exc}", err=True)
        raise typer.Exit(1) from exc
    except (SQLAlchemyError, OSError) as exc:
        raise database_failure(url, exc) from exc


def backup(
    file: Path = typer.Argument(..., help="Where to write the backup (replaced atomically)."),
) -> None:
    """Back up the database: SQLite's online backup or pg_dump, safe while the service runs."""
    from app.backup import backup as run_backup
    from app.cli import _redacted, load_settings

    settings = load_settings()
    url = settings.effective_database_url
    result = _run("back up", run_backup, url, file, settings.pg_bin_dir)
    tool = f" with {result.tool.describe()}" if result.tool else ""
    typer.echo(f"Backed up {_redacted(url)} (revision {result.revision}) to {result.path} "
               f"({_size(result.size_bytes)}){tool}.")


def restore(
    file: Path = typer.Argument(..., help="A backup written by `ringfence backup`."),
    yes: bool = typer.Option(False, "--yes", "-y",
                             help="Replace the database without asking."),
) -> None:
    """Replace the database with a backup (stop the service first); then run `ringfence migrate`."""
    from app.backup import restore as run_restore
    from app.cli import _redacted, load_settings

    settings = load_settings()
    url = settings.effective_database_url
    if not yes:
        question = f"Replace everything in the database at {_redacted(url)} with {file}?"
        if not sys.stdin.isatty():
            typer.echo(f"ringfence: restore replaces everything in the database at "
                       f"{_redacted(url)}; add --yes to confirm", err=True)
            raise typer.Exit(1)
        if not typer.confirm(question, default=False):
            typer.echo("Nothing restored.", err=True)
            raise typer.Exit(1)
    result = _run("restore", run_restore, url, file, settings.pg_bin_dir)
    tool = f" with {result.tool.describe()}" if result.tool else ""
    typer.echo(f"Restored {file} (revision {result.revision}) into {_redacted(url)}{tool}.")
    if result.at_head:
        typer.echo("It is at the latest revision; `ringfence migrate` has nothing to do.")
    else:
        typer.echo(f"Run `ringfence migrate` to bring it from revision {result.revision} to "
                   f"{result.head} before serving.")


def register(cli: typer.Typer) -> None:
    """Mount `backup` and `restore` on the `ringfence` command."""
    cli.command("backup")(backup)
    cli.command("restore")(restore)
