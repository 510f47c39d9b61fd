"""`ringfence users ...`: sign-in accounts from the command line.

The first admin is made here (`ringfence users create-admin`), never by a default
password. Passwords are typed at a hidden prompt, or piped with `--password-stdin`
(one line) so that they never appear in the shell history or the process list.

Typing a password for someone is for an operator at the server (the first admin, a
recovery when email is down), not for the admin role: admins working through the service
can only have a one-time link emailed to the person. `--send-link` does the same here,
so that the operator need not know the password either.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager

import typer
from rich.console import Console
from sqlmodel import Session

from app.errors import DomainError
from app.models import Account

users_app = typer.Typer(
    help="Sign-in accounts: create them, reset passwords, the first admin, demo sign-ins.",
    no_args_is_help=True,
    add_completion=False,
)
console = Console()
errors = Console(stderr=True)

EmailOption = typer.Option(..., "--email", help="The person's email address (their sign-in).")
PasswordStdin = typer.Option(
    False, "--password-stdin", help="Read the password from standard input (one line)."
)
SendLink = typer.Option(
    False, "--send-link", help="Email the person a one-time link to choose their own password "
    "(through the outbox) instead of typing one.",
)


@contextmanager
def _session() -> Iterator[Session]:
    """One transaction for the command: committed when it succeeds, rolled back if not."""
    from app.cli import load_settings
    from app.db import make_engine
    from app.jobs.transaction import transaction

    engine = make_engine(load_settings().effective_database_url)
    try:
        with transaction(engine) as session:
            yield session
    finally:
        engine.dispose()


def _password(from_stdin: bool, *, required: bool) -> str | None:
    if from_stdin:
        line = sys.stdin.readline().rstrip("\r\n")
        if not line:
            _fail("no password on standard input")
        return line
    if not sys.stdin.isatty():
        if required:
            _fail("give the password with --password-stdin (or run this at a terminal)")
        return None
    return str(typer.prompt("Password", hide_input=True, confirmation_prompt=True))


def _fail(message: str) -> None:
    errors.print(f"[red]{message}[/red]")
    raise typer.Exit(1)


def _account(session: Session, email: str) -> Account:
    """The account signed in as `email`; the command stops, saying so, when there is none."""
    from app.auth import accounts
    from app.repositories import account as repo

    account = repo.account_by_email(session, accounts.normalise_email(email))
    if account is None:
        _fail(f"no account for {email}")
    assert account is not None
    return account


def _run(action: str, func: object) -> None:
    try:
        func()  # type: ignore[operator]
    except DomainError as exc:
        field = exc.loc[-1] if exc.loc and exc.loc[-1] != "body" else None
        _fail(f"{action}: {exc.message}" + (f" ({field})" if field else ""))


@users_app.command("create")
def create(
    email: str = EmailOption,
    role: str | None = typer.Option(
        None, "--role", help="nqsw, advanced_practitioner, social_worker, team_manager, "
        "senior_manager, asye_coordinator or admin. Needed when the person is not on the "
        "staff list yet; changes their role (audited) when it differs.",
    ),
    name: str | None = typer.Option(None, "--name", help="Name, for a new staff member."),
    password_stdin: bool = PasswordStdin,
    send_link: bool = SendLink,
) -> None:
    """Give a staff member an account (adding them to the staff list if needed)."""
    from app.auth import accounts
    from app.cli import load_settings

    if send_link and password_stdin:
        _fail("choose --send-link or --password-stdin, not both")
    password = None if send_link else _password(password_stdin, required=False)

    def act() -> None:
        with _session() as session:
            account = accounts.create_account(
                session, email=email, role=role, name=name, password=password
            )
            if send_link:
                accounts.send_password_link(session, account, requested_by=None,
                                            settings=load_settings())
            described = accounts.describe(session, account)
        console.print(f"Account created for {described['name']} <{account.email}>, "
                      f"role {described['role']}.")
        if send_link:
            console.print(f"A one-time link to choose a password is queued for {account.email}.")
        elif password is None:
            console.print("No password yet: email a link with "
                          f"`ringfence users reset-password --send-link --email {account.email}`"
                          ", or set one with `ringfence users reset-password`.")

    _run("Not created", act)


@users_app.command("create-admin")
def create_admin(
    email: str = EmailOption,
    name: str = typer.Option("Administrator", "--name", help="The admin's name."),
    password_stdin: bool = PasswordStdin,
) -> None:
    """Create an administrator (the first one, on a new installation)."""
    from app.auth import accounts
    from app.models.base import Role

    password = _password(password_stdin, required=True)

    def act() -> None:
        with _session() as session:
            account = accounts.create_account(
                session, email=email, role=Role.admin.value, name=name, password=password
            )
        console.print(f"Administrator {account.email} created. Sign in at /login, or get an "
                      "API token at /docs (Authorize).")

    _run("Not created", act)


@users_app.command("reset-password")
def reset_password(
    email: str = EmailOption, password_stdin: bool = PasswordStdin, send_link: bool = SendLink
) -> None:
    """Set a new password, or with --send-link email a one-time link to choose one; either
    way the account's sessions, tokens and calendar feed URL end at once."""
    from app.auth import accounts
    from app.cli import load_settings
    from app.repositories import account as repo

    if send_link and password_stdin:
        _fail("choose --send-link or --password-stdin, not both")
    password = None if send_link else _password(password_stdin, required=True)

    def act() -> None:
        with _session() as session:
            account = repo.account_by_email(session, accounts.normalise_email(email))
            if account is None:
                _fail(f"no account for {email}")
                return
            if password is None:
                accounts.reset_password(session, account, requested_by=None,
                                        settings=load_settings())
            else:
                accounts.set_password(session, account, password, actor_id=None)
        if password is None:
            console.print(f"Password reset for {email}: a one-time link to choose a new one "
                          "is queued for them.")
        else:
            console.print(f"Password changed for {email}.")

    _run("Not changed", act)


@users_app.command("set-role")
def set_role(email: str = EmailOption,
             role: str = typer.Option(..., "--role", help="The new role.")) -> None:
    """Change what a person may do (audited); their sessions, tokens and calendar feed URL
    end, so they sign in again under the new role."""
    from app.auth import accounts
    from app.repositories import account as repo
    from app.repositories import staff as staff_repo

    def act() -> None:
        with _session() as session:
            account = repo.account_by_email(session, accounts.normalise_email(email))
            staff = staff_repo.person(session, account.staff_id) if account else None
            if staff is None:
                _fail(f"no account for {email}")
                return
            accounts.change_role(session, staff, role, actor_id=None)
        console.print(f"{email} is now {role}.")

    _run("Not changed", act)


@users_app.command("deactivate")
def deactivate(email: str = EmailOption) -> None:
    """Switch an account off: its sessions, tokens and calendar feed URL stop working at once."""
    from app.auth import accounts

    with _session() as session:
        accounts.set_active(session, _account(session, email), False, actor_id=None)
    console.print(f"{email} switched off.")


@users_app.command("remove-second-factor")
def remove_second_factor(email: str = EmailOption) -> None:
    """Take the second factor off an account whose holder lost their phone and their
    recovery codes; a role that must have one sets it up again at the next sign-in."""
    from app.auth import second_factor

    with _session() as session:
        second_factor.remove(session, _account(session, email), actor_id=None)
    console.print(f"{email}: second factor removed; set it up again at the next sign-in.")


@users_app.command("deactivate-demo")
def deactivate_demo() -> None:
    """Switch off every demo sign-in (demo-…@ringfence.example): needed before a database
    that once held the demo is served in production mode."""
    from app.auth.demo import deactivate_demo_accounts

    with _session() as session:
        switched = deactivate_demo_accounts(session)
    if not switched:
        console.print("No demo sign-ins are switched on.")
        return
    console.print(f"Switched off {len(switched)} demo sign-in"
                  f"{'' if len(switched) == 1 else 's'}: {', '.join(switched)}.",
                  highlight=False, soft_wrap=True)


@users_app.command("list")
def list_accounts() -> None:
    """Every account, with its person and role."""
    from app.auth import accounts
    from app.repositories import account as repo

    with _session() as session:
        rows, _count = repo.list_accounts(session, limit=100_000, offset=0)
        described = [accounts.describe(session, account) for account in rows]
    console.print(f"{'email':<40} {'role':<22} {'active':<6} {'password':<8} name",
                  highlight=False)
    for d in described:
        console.print(
            f"{d['email']!s:<40} {d['role'] or '-'!s:<22} {'yes' if d['is_active'] else 'no':<6} "
            f"{'set' if d['has_password'] else 'none':<8} {d['name'] or ''}",
            highlight=False, soft_wrap=True,
        )


@users_app.command("demo-accounts")
def demo_accounts(
    ensure: bool = typer.Option(False, "--ensure", help="Create any that are missing first."),
) -> None:
    """Print the demo sign-ins (one per role, password `ringfence-demo`). Not in production."""
    from app.auth.demo import DemoAccountsRefused, ensure_demo_accounts, list_demo_accounts
    from app.cli import load_settings

    settings = load_settings()
    if settings.mode == "production":
        _fail("there are no demo accounts in production mode")
    with _session() as session:
        try:
            if ensure:
                ensure_demo_accounts(session, settings)
        except DemoAccountsRefused as exc:
            _fail(str(exc))
        found = list_demo_accounts(session)
    if not found:
        console.print("No demo sign-ins: load the demo with `ringfence demo`, or run "
                      "`ringfence users demo-accounts --ensure`.")
        return
    console.print(f"Demo sign-ins (development only), password [bold]{found[0].password}[/bold]:",
                  highlight=False)
    for account in found:
        console.print(f"  {account.role:<22} {account.email:<46} {account.name}",
                      highlight=False, soft_wrap=True)
