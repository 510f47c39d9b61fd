"""The `ringfence` command: serve, migrate, demo, and the operational sub-commands."""

from __future__ import annotations

import sys

import typer
from pydantic import ValidationError
from rich.console import Console

from app.settings import Settings, get_settings

cli = typer.Typer(help="Ringfence: protect NQSW caseloads and make breaches visible.",
                  no_args_is_help=True, add_completion=False)
console = Console(stderr=True)


def load_settings() -> Settings:
    """Settings, or one clear line naming the setting and exit status 2 when one is bad."""
    try:
        return get_settings()
    except ValidationError as exc:
        first = exc.errors()[0]
        message = str(first["msg"]).removeprefix("Value error, ")
        if first["loc"]:
            name = "RINGFENCE_" + str(first["loc"][0]).upper()
            typer.echo(f"ringfence: bad setting {name}: {message}", err=True)
        else:
            typer.echo(f"ringfence: bad setting: {message}", err=True)
        raise typer.Exit(2) from exc


def database_failure(url: str, exc: Exception) -> typer.Exit:
    """One line saying the database could not be used and why; exit status 1."""
    reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()
    typer.echo(f"ringfence: cannot use the database at {_redacted(url)}: "
               f"{reason[0] if reason else type(exc).__name__}", err=True)
    return typer.Exit(1)


@cli.command()
def migrate(
    revision: str = typer.Argument("head", help="Alembic revision to move to."),
    allow_downgrade: bool = typer.Option(
        False, "--allow-downgrade", help="Allow going back to an older revision."),
) -> None:
    """Apply database migrations, saying from which revision to which (or nothing to do)."""
    from sqlalchemy.exc import SQLAlchemyError

    from app.migrate import MigrationRefused, migrate_to

    settings = load_settings()
    url = settings.effective_database_url
    try:
        report = migrate_to(url, revision, allow_downgrade=allow_downgrade)
    except MigrationRefused as exc:
        typer.echo(f"ringfence: cannot migrate to {revision!r}: {exc}", err=True)
        raise typer.Exit(1) from exc
    except (SQLAlchemyError, OSError) as exc:
        raise database_failure(url, exc) from exc
    console.print(report.describe(_redacted(url)), soft_wrap=True)


@cli.command()
def serve(
    host: str = typer.Option("127.0.0.1", help="Interface to listen on."),
    port: int = typer.Option(8000, help="Port to listen on."),
    workers: int = typer.Option(1, min=1, help="Worker processes."),
    reload: bool = typer.Option(False, help="Reload on code changes (development)."),
) -> None:
    """Serve the web pages and the API with uvicorn."""
    import uvicorn

    settings = load_settings()
    _refuse_unmigrated_database(settings)
    _refuse_bad_policies(settings)
    _refuse_live_demo_accounts(settings)
    console.print(f"Ringfence on http://{host}:{port}  (API docs at /docs)")
    uvicorn.run(
        "app.main:create_app", factory=True, host=host, port=port, workers=workers,
        reload=reload, log_level="info",
    )


def _refuse_unmigrated_database(settings: Settings) -> None:
    """Stop before serving a database whose schema is not the one this code expects: every
    request would fail on a missing table or column. `make run` migrates first."""
    from sqlalchemy.exc import SQLAlchemyError

    from app.db import make_engine
    from app.migrate import schema_state

    url = settings.effective_database_url
    engine = make_engine(url)
    try:
        state = schema_state(engine)
    except (SQLAlchemyError, OSError) as exc:
        raise database_failure(url, exc) from exc
    finally:
        engine.dispose()
    if not state.at_head:
        typer.echo(f"ringfence: the database at {_redacted(url)} {state.describe()}; "
                   "run `ringfence migrate` first", err=True)
        raise typer.Exit(1)


def _refuse_live_demo_accounts(settings: Settings) -> None:
    """In production, stop while demo sign-ins with the published password still work (one
    line naming the fix), before uvicorn would refuse it with a traceback."""
    from app.auth.install import demo_accounts_problem
    from app.db import make_engine

    engine = make_engine(settings.effective_database_url)
    try:
        problem = demo_accounts_problem(engine, settings)
    finally:
        engine.dispose()
    if problem is not None:
        typer.echo(f"ringfence: {problem}", err=True)
        raise typer.Exit(2)


def _refuse_bad_policies(settings: Settings) -> None:
    """Stop before serving when a policy file is not fully understood: file, line, reason."""
    from app.policy.registry import check_policies

    result = check_policies(settings.policy_dir)
    if result.policy_set is None:
        for problem in result.problems:
            typer.echo(f"ringfence: {problem}", err=True)
        typer.echo("ringfence: refusing to start on policies it does not understand", err=True)
        raise typer.Exit(2)


def _redacted(url: str) -> str:
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        return f"{scheme}://***@{rest.split('@', 1)[1]}"
    return url


def _mount_subcommands() -> None:
    """Sub-command groups live beside the code they operate."""
    from app.cli_backup import register as register_backup
    from app.cli_demo import register as register_demo
    from app.cli_outbox import register as register_outbox
    from app.cli_policies import policies_app
    from app.cli_sweep import register as register_sweep

    register_backup(cli)
    register_demo(cli)
    register_outbox(cli)
    register_sweep(cli)
    __import__("app.cli_import").cli_import.register(cli)
    cli.add_typer(policies_app, name="policies", help="Check and explain workload policies.")
    cli.add_typer(__import__("app.cli_users").cli_users.users_app, name="users")


_mount_subcommands()


def main() -> None:
    try:
        cli()
    except KeyboardInterrupt:  # pragma: no cover - interactive only
        sys.exit(130)
