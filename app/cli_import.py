"""`ringfence import staff|cases|allocations FILE --profile NAME`: read a case-management
export into the service.

Staff, cases and allocations are kept in Liquidlogic, Mosaic or Eclipse; this reads
their CSV or XLSX exports through a mapping profile. `--dry-run` shows what would change
(and what that does to each NQSW under the policies) and writes nothing but the record
of the run. Any bad row stops the import: every one is listed, and the exit status is 1.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table

from app.models.imports import ImportKind

import_app = typer.Typer(help="Import staff, cases or allocations from a system's export.",
                         no_args_is_help=True)
console = Console(stderr=True)


def _parse_date(value: str | None) -> date | None:
    if value is None:
        return None
    for parse in (date.fromisoformat, _uk_date):
        try:
            return parse(value)
        except ValueError:
            continue
    raise typer.BadParameter(f"{value!r} is not a date (dd/mm/yyyy or yyyy-mm-dd)")


def _uk_date(value: str) -> date:
    day, month, year = (int(p) for p in value.split("/"))
    return date(year, month, day)


def _run(kind: ImportKind, file: Path, profile_name: str, dry_run: bool,
         close_missing: bool, on: str | None, profiles_dir: Path | None) -> None:
    from app.cli import load_settings
    from app.clock import today
    from app.db import make_engine
    from app.imports.apply import run_import
    from app.imports.profiles import ProfileError, find_profile
    from app.jobs.transaction import transaction
    from app.policy.registry import PolicyFileError, load_policy_set
    from app.services.cases import known_categories

    settings = load_settings()
    as_of = _parse_date(on) or today()
    try:
        policies = load_policy_set(settings.policy_dir)
    except PolicyFileError as exc:
        typer.echo(f"Refusing to import on a bad policy directory:\n{exc}", err=True)
        raise typer.Exit(2) from exc
    try:
        profile = find_profile(profile_name, profiles_dir, known_categories(policies))
    except ProfileError as exc:
        typer.echo(f"Refusing to import with a bad profile:\n{exc}", err=True)
        raise typer.Exit(2) from exc
    if not file.is_file():
        typer.echo(f"ringfence: no file at {file}", err=True)
        raise typer.Exit(2)
    engine = make_engine(settings.effective_database_url)
    columns = (TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed} rows"),
               TimeElapsedColumn())
    try:
        with Progress(*columns, console=console, transient=True) as bar, \
                transaction(engine) as session:
            task: TaskID = bar.add_task(f"Reading {file.name}", total=None)

            def tell(stage: str, done: int, total: int | None) -> None:
                bar.update(task, description=f"{stage.capitalize()} {file.name}",
                           completed=done, total=total)

            report = run_import(
                session, kind=kind, path=file, file_name=file.name, profile=profile,
                policies=policies, as_of=as_of, max_bytes=settings.max_upload_bytes,
                close_missing=close_missing, dry_run=dry_run, progress=tell,
            )
    finally:
        engine.dispose()
    _print(report)
    if not report.ok:
        raise typer.Exit(1)


def _print(report: object) -> None:
    from app.imports.apply import ImportReport, long_date

    assert isinstance(report, ImportReport)
    out = Console()
    if report.problem:
        console.print(f"{report.file_name} was not imported: {report.problem}", soft_wrap=True)
        return
    if report.errors:
        table = Table("Row", "Column", "Problem", title=f"{report.file_name}: "
                      f"{len(report.errors)} problems, nothing was imported")
        for error in report.errors:
            table.add_row(str(error.row), error.column, error.reason)
        console.print(table)
        return
    counts = report.counts
    verb = "Would import" if report.dry_run else "Imported"
    out.print(
        f"{verb} {report.file_name} ({report.rows} rows) as of {long_date(report.as_of)}: "
        f"{counts.get('created', 0)} created, {counts.get('updated', 0)} updated, "
        f"{counts.get('closed', 0)} closed, {counts.get('unchanged', 0)} unchanged.",
        soft_wrap=True,
    )
    for person in report.consequences:
        for finding in person["findings"]:
            out.print(f"  {finding['sentence']}", soft_wrap=True)
    if report.dry_run:
        out.print("Nothing was changed (dry run).")


def _command(kind: ImportKind) -> None:
    def command(
        file: Path = typer.Argument(..., help="The CSV or XLSX export."),
        profile: str = typer.Option(..., "--profile", help="Mapping profile name."),
        dry_run: bool = typer.Option(False, "--dry-run",
                                     help="Show what would change; change nothing."),
        close_missing: bool = typer.Option(
            False, "--close-missing",
            help="The file is a full export: end what it no longer lists."),
        on: str | None = typer.Option(None, "--on",
                                      help="The export's date (dd/mm/yyyy); default today."),
        profiles_dir: Path | None = typer.Option(
            None, "--profiles-dir", help="The organisation's own profiles directory."),
    ) -> None:
        _run(kind, file, profile, dry_run, close_missing, on, profiles_dir)

    command.__doc__ = f"Import {kind.value} from an export file."
    import_app.command(kind.value)(command)


for _kind in ImportKind:
    _command(_kind)


def register(cli: typer.Typer) -> None:
    """Mount `import` on the `ringfence` command."""
    cli.add_typer(import_app, name="import")
