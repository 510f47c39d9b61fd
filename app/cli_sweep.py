"""`ringfence sweep [--as-of DATE]`: reconcile every NQSW's breaches as of a date.

The service's scheduler runs the sweep daily; the command is for a cron job when the
scheduler is off, for catching up after downtime, and for replaying a past date. It
never runs alongside another sweep (the same lock the scheduler takes).
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

import typer

if TYPE_CHECKING:
    from app.services.sweep import SweepReport


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
    typer.echo(found_text(report))


def found_text(report: SweepReport) -> str:
    """What the sweep found for its date, rule by rule, with the day the longest-running
    problem of each began: a replay of an earlier date says what was wrong then."""
    day = report.as_of.isoformat()
    if not report.found:
        return f"Nothing unresolved on {day}."
    by_rule: dict[tuple[str, str], list[date]] = {}
    for found in report.found:
        by_rule.setdefault((found.policy_id, found.rule_id), []).append(found.began_on)
    lines = [f"Unresolved on {day}: {len(report.found)}"
             + (f" ({report.counts.get('began_earlier', 0)} found to have begun earlier)"
                if report.counts.get("began_earlier") else "") + "."]
    for (policy_id, rule_id), began in sorted(by_rule.items()):
        lines.append(f"  {policy_id}/{rule_id}: {len(began)}, the longest-running since "
                     f"{min(began).isoformat()}")
    return "\n".join(lines)


def register(cli: typer.Typer) -> None:
    """Mount `sweep` on the `ringfence` command."""
    cli.command("sweep")(sweep)
