"""`ringfence sweep [--as-of DATE]`: reconcile every NQSW's breaches as of a date.

The service's scheduler runs the sweep daily; the command is for a cron job when the
scheduler is off, for catching up after downtime, and for replaying a past date. It
never runs alongside another sweep (the same lock the scheduler takes).
"""

from __future__ import annotations

from datetime import date

import typer


def _parse_date(value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise typer.BadParameter(f"{value!r} is not a date (YYYY-MM-DD)") from exc


def sweep(
    as_of: str | None = typer.Option(
        None, "--as-of", help="Effective date (YYYY-MM-DD, Europe/London); default today."
    ),
) -> None:
    """Re-evaluate every NQSW as of a date: open, keep, resolve and escalate breaches."""
    from app.cli import load_settings
    from app.clock import today
    from app.db import make_engine
    from app.jobs.scheduler import sweep_once
    from app.policy.registry import PolicyFileError, load_policy_set

    day = _parse_date(as_of) or today()
    settings = load_settings()
    try:
        policies = load_policy_set(settings.policy_dir)
    except PolicyFileError as exc:
        typer.echo(f"Refusing to sweep on a bad policy directory:\n{exc}", err=True)
        raise typer.Exit(2) from exc
    engine = make_engine(settings.effective_database_url)
    try:
        report = sweep_once(engine, policies=policies, as_of=day, force=True)
    finally:
        engine.dispose()
    if report is None:
        typer.echo("Another sweep is running; try again when it has finished.", err=True)
        raise typer.Exit(3)
    counts = report.as_dict()
    typer.echo(
        f"Swept {counts['nqsws']} NQSWs as of {day.isoformat()}: opened {counts['opened']}, "
        f"kept {counts['kept']}, resolved {counts['resolved']}, escalated {counts['escalated']}, "
        f"reopened {counts['reopened']}."
    )


def register(cli: typer.Typer) -> None:
    """Mount `sweep` on the `ringfence` command."""
    cli.command("sweep")(sweep)
