"""`ringfence demo`: load the synthetic organisation into the configured database."""

from __future__ import annotations

from datetime import date
from typing import NoReturn

import typer
from rich.console import Console
from rich.table import Table

from app.demo.generator import DemoData

console = Console()
errors = Console(stderr=True)


# The demo builds years of history before its as-of date and programmes that run two
# years past it: dates this far apart keep all of that inside the calendar.
FIRST_AS_OF = date(1950, 1, 1)
LAST_AS_OF = date(2150, 12, 31)


def _as_of(value: str | None) -> date:
    if value is None:
        from app.clock import today

        return today()
    try:
        day = date.fromisoformat(value)
    except ValueError:
        _bad_as_of(f"{value!r} is not a date (YYYY-MM-DD)")
    if not FIRST_AS_OF <= day <= LAST_AS_OF:
        _bad_as_of(f"{value} is out of range: the demo can be generated as of "
                   f"{FIRST_AS_OF.isoformat()} to {LAST_AS_OF.isoformat()}")
    return day


def _bad_as_of(message: str) -> NoReturn:
    """One line and exit status 2, as for any other bad option value."""
    typer.echo(f"ringfence: bad --as-of: {message}", err=True)
    raise typer.Exit(2)


def print_sign_ins(accounts: list[dict[str, str]]) -> None:
    """The demo sign-ins as plain lines: a table would cut the addresses on a narrow terminal."""
    passwords = {a["password"] for a in accounts}
    shared = passwords.pop() if len(passwords) == 1 else None
    heading = "Demo sign-ins (development only)"
    console.print(f"{heading}, password [bold]{shared}[/bold]:" if shared else f"{heading}:",
                  highlight=False)
    for account in accounts:
        line = f"  {account['role']:<22} {account['email']:<46} {account['name']}"
        if shared is None:
            line += f"  password {account['password']}"
        console.print(line, highlight=False, soft_wrap=True)


def featured_table(data: DemoData) -> Table:
    """The NQSWs placed to show each kind of finding, so a newcomer knows where to look."""
    from app.demo.profiles import FEATURED

    staff = {row["id"]: row for row in data.rows["staff"]}
    teams = {row["id"]: row["name"] for row in data.rows["team"]}
    table = Table(title="Where to look", show_lines=False)
    table.add_column("NQSW", overflow="fold")
    table.add_column("team", overflow="fold")
    table.add_column("shows", overflow="fold")
    for profile in FEATURED:
        staff_id = data.featured.get(profile.key)
        if staff_id is None:
            continue
        person = staff[staff_id]
        table.add_row(f"{person['name']} (#{staff_id})", teams.get(person["team_id"], ""),
                      profile.shows)
    return table


def register(cli: typer.Typer) -> None:
    @cli.command()
    def demo(
        size: str = typer.Option("small", help="small (the demo), medium (~4x) or large "
                                 "(2,000 staff, 50,000 open cases)."),
        seed: int = typer.Option(7, help="The same seed and as-of date give the same data."),
        as_of: str | None = typer.Option(
            None, "--as-of", help="Date the organisation is generated around (default today)."
        ),
        if_empty: bool = typer.Option(
            False, "--if-empty", help="Do nothing when the database already has an organisation."
        ),
        replace: bool = typer.Option(
            False, "--replace", help="Wipe every table first, then load."
        ),
        sweep: bool = typer.Option(True, help="Run the breach sweep after loading."),
        sign_ins: bool = typer.Option(
            True, "--sign-ins/--no-sign-ins",
            help="Print the demo sign-ins after loading (`make run` prints them itself, "
                 "once, with `ringfence users demo-accounts`)."),
    ) -> None:
        """Load the demo organisation (once: a second run never duplicates it).

        Development and evaluation only: refused in production mode.
        """
        from app.cli import _redacted, load_settings
        from app.demo.service import DemoRefused, load_demo
        from app.demo.sizes import SIZES
        from app.demo.summary import organisation_counts

        if size not in SIZES:
            raise typer.BadParameter(f"choose one of {', '.join(SIZES)}", param_hint="--size")
        if if_empty and replace:
            raise typer.BadParameter("choose --if-empty or --replace, not both")
        day = _as_of(as_of)
        settings = load_settings()
        url = settings.effective_database_url
        try:
            with console.status(f"Loading the {size} organisation into {_redacted(url)}"):
                outcome = load_demo(settings, size=size, seed=seed, as_of=day,
                                    if_empty=if_empty, replace=replace, sweep=sweep)
        except DemoRefused as exc:
            if settings.mode == "production":
                errors.print(f"[red]Not loaded: {exc}.[/red]")
                raise typer.Exit(1) from exc
            # The organisation is already there: nothing to do, which is not a failure
            # (`make demo` twice leaves the first load as it is).
            console.print(
                f"The database at {_redacted(url)} already holds an organisation: nothing "
                "loaded. Use --replace to wipe it and load the demo again.",
                highlight=False, soft_wrap=True,
            )
            return
        except (ValueError, OverflowError) as exc:
            if settings.debug:
                raise
            errors.print(f"ringfence: cannot generate the demo as of {day.isoformat()}: {exc}",
                         highlight=False, soft_wrap=True)
            raise typer.Exit(1) from exc
        if not outcome.loaded:
            for note in outcome.notes:
                console.print(note)
            return
        from app.db import make_engine

        engine = make_engine(url)
        try:
            counts = organisation_counts(engine, day)
        finally:
            engine.dispose()
        table = Table(title=f"Demo organisation: {size}, seed {seed}, as of {day.isoformat()}",
                      show_header=False)
        table.add_column("what")
        table.add_column("count", justify="right")
        for label, count in counts.items():
            table.add_row(label, f"{count:,}")
        console.print(table)
        if outcome.data is not None and outcome.data.featured:
            console.print(featured_table(outcome.data))
        timings = ", ".join(f"{k} {v:.1f}s" for k, v in outcome.seconds.items())
        console.print(f"Loaded into {_redacted(url)} ({timings}).")
        if outcome.sweep is not None:
            console.print(
                f"Breach sweep as of {day.isoformat()}: {outcome.sweep.get('opened', 0)} "
                f"opened over {outcome.sweep.get('nqsws', 0)} NQSWs."
            )
        if outcome.accounts and sign_ins:
            print_sign_ins(outcome.accounts)
        for note in outcome.notes:
            errors.print(f"[yellow]{note}[/yellow]")
        console.print(
            f"Generated as of [bold]{day.isoformat()}[/bold]: programme stages are relative "
            "to that date; reload with --replace --as-of to move it."
        )
