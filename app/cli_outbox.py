"""`ringfence outbox`: send queued email now, see what is waiting, retry what was given up.

The scheduler inside the service does this every minute; the command is for a cron job
when the scheduler is off, and for an administrator after fixing the mail server.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any, TypeVar

import typer

_Done = TypeVar("_Done")

outbox_app = typer.Typer(
    help="Deliver queued notification emails and inspect the outbox.", no_args_is_help=True
)


def _engine_and_settings():  # type: ignore[no-untyped-def]
    from app.cli import load_settings
    from app.db import make_engine

    settings = load_settings()
    return make_engine(settings.effective_database_url), settings


def _on_database(job: Callable[[Any, Any], _Done]) -> _Done:
    """`job(engine, settings)` on an engine of its own, disposed of however it ends."""
    engine, settings = _engine_and_settings()
    try:
        return job(engine, settings)
    finally:
        engine.dispose()


@outbox_app.command("deliver")
def deliver(
    limit: int | None = typer.Option(None, min=1, help="Send at most this many messages."),
) -> None:
    """Send every email that is due now (retries included), then exit."""
    from app.jobs.outbox import deliver_due

    def send(engine: Any, settings: Any) -> Any:
        if not settings.smtp_enabled:
            typer.echo("SMTP is disabled (RINGFENCE_SMTP_ENABLED=false): nothing sent.", err=True)
            raise typer.Exit(0)
        return deliver_due(engine, settings, limit=limit)

    counts = _on_database(send)
    typer.echo(f"sent {counts.sent}, will retry {counts.retrying}, given up {counts.failed}")
    for error in counts.errors:
        typer.echo(f"  {error}", err=True)


@outbox_app.command("status")
def show_status() -> None:
    """How many emails are pending (and due now), sent, and given up on."""
    from app.jobs.outbox import status_counts

    counts = _on_database(lambda engine, _settings: status_counts(engine))
    typer.echo(
        f"pending {counts['pending']} (due now {counts['due']}), sent {counts['sent']}, "
        f"given up {counts['failed']}"
    )


@outbox_app.command("requeue")
def requeue() -> None:
    """Give every email that was given up on a fresh set of attempts."""
    from app.jobs.outbox import requeue_failed

    count = _on_database(lambda engine, _settings: requeue_failed(engine))
    typer.echo(f"re-queued {count} emails")


@outbox_app.command("digest")
def digest(
    day: str | None = typer.Option(
        None, help="Local date (YYYY-MM-DD) whose digests to build; default yesterday."
    ),
) -> None:
    """Build the daily digest emails for a day now (normally the scheduler does this)."""
    from app.clock import today
    from app.jobs.digest import build_digests_for_day

    try:
        on = date.fromisoformat(day) if day else today() - timedelta(days=1)
    except ValueError as exc:
        typer.echo(f"--day must be YYYY-MM-DD, not {day!r}", err=True)
        raise typer.Exit(2) from exc
    created = _on_database(lambda engine, settings: build_digests_for_day(engine, on, settings))
    typer.echo(f"queued {len(created)} digest emails for {on}")


def register(cli: typer.Typer) -> None:
    cli.add_typer(outbox_app, name="outbox", help="Deliver and inspect notification emails.")
