"""`ringfence policies`: check the policy files and read them back in plain English.

A coordinator edits TOML by hand; `check` tells them exactly which line is wrong
before the service refuses to start on it, and `explain` shows what NQSWs will read.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import typer

from app.policy.policies import PROGRAMMES
from app.policy.registry import check_policies
from app.policy.statement import describe_inactive, describe_policy_set, programme_heading

policies_app = typer.Typer(
    help="Check the organisation's workload policies and explain them in plain English.",
    no_args_is_help=True,
)


def _default_dir() -> Path:
    from app.settings import get_settings

    return get_settings().policy_dir


# Both commands take the directory the same two ways, so that a command line written for
# one works for the other: as the argument (`check DIR`, `explain DIR`) or as `--dir DIR`.
DIR_HELP = "The policy directory (default: the configured policies/)."


def _directory(argument: Path | None, option: Path | None) -> Path:
    """The directory named either way; both ways at once must name the same one."""
    if argument is not None and option is not None and argument != option:
        typer.echo(f"two policy directories given: {argument} and --dir {option}", err=True)
        raise typer.Exit(code=2)
    return argument or option or _default_dir()


@policies_app.command("check")
def check(
    directory: Path | None = typer.Argument(None, help=DIR_HELP),
    dir_option: Path | None = typer.Option(None, "--dir", help=DIR_HELP),
    strict: bool = typer.Option(
        False, "--strict", help="Fail (exit 1) on warnings too, e.g. a summary that has drifted."
    ),
) -> None:
    """Validate every policy file; print each problem as path:line: reason."""
    directory = _directory(directory, dir_option)
    result = check_policies(directory)
    for warning in result.warnings:
        typer.echo(f"warning: {warning}", err=True)
    if result.policy_set is None:
        for problem in result.problems:
            typer.echo(str(problem))
        count = len(result.problems)
        typer.echo(f"{count} problem{'s' if count != 1 else ''} in {directory}", err=True)
        raise typer.Exit(code=1)
    policy_set = result.policy_set
    for policy in policy_set:
        active = ", ".join(policy_set.programmes_for(policy.id)) or "not active"
        typer.echo(f"ok  {policy.id}  version {policy.version}  ({active})")
    count = len(result.warnings)
    warned = f", {count} warning{'s' if count != 1 else ''}" if count else ""
    typer.echo(f"{len(policy_set)} policies checked in {directory}: no problems{warned}")
    if strict and result.warnings:
        raise typer.Exit(code=1)


def _print_policy(policy: dict[str, object], width: int) -> None:
    typer.echo("")
    typer.echo(f"{policy['title']} (policy {policy['id']}, version {policy['version']})")
    typer.echo(textwrap.fill(str(policy["statement"]), width=width))


@policies_app.command("explain")
def explain(
    directory: Path | None = typer.Argument(None, help=DIR_HELP),
    programme: str | None = typer.Option(
        None, "--programme", "-p",
        help="asye or swip: only what NQSWs on it are promised (default: both, then the "
        "policies that are available but not active).",
    ),
    dir_option: Path | None = typer.Option(None, "--dir", help=DIR_HELP),
    width: int = typer.Option(88, help="Wrap the text at this width."),
) -> None:
    """Print the plain-English statement of every active policy (and, without
    --programme, of every policy that is available but not active)."""
    if programme is not None and programme not in PROGRAMMES:
        typer.echo(f"unknown programme {programme!r} (use {' or '.join(PROGRAMMES)})", err=True)
        raise typer.Exit(code=2)
    directory = _directory(directory, dir_option)
    result = check_policies(directory)
    if result.policy_set is None:
        for problem in result.problems:
            typer.echo(str(problem), err=True)
        raise typer.Exit(code=1)
    for index, name in enumerate([programme] if programme else list(PROGRAMMES)):
        if index:
            typer.echo("")
        heading = programme_heading(name)
        typer.echo(heading)
        typer.echo("=" * min(len(heading), width))
        described = describe_policy_set(result.policy_set, name)
        if not described:
            typer.echo("No policy is active for this programme.")
        for policy in described:
            _print_policy(policy, width)
    inactive = describe_inactive(result.policy_set) if programme is None else []
    if inactive:
        heading = "Available, not active (list a policy in active.toml to apply it)"
        typer.echo("")
        typer.echo(heading)
        typer.echo("=" * min(len(heading), width))
        for policy in inactive:
            _print_policy(policy, width)


if __name__ == "__main__":  # pragma: no cover - `python -m app.cli_policies`
    policies_app()
