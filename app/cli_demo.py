"""Placeholder: the demo-generator owner replaces this module."""

import typer


def register(cli: typer.Typer) -> None:
    @cli.command()
    def demo() -> None:
        """Load the demo organisation (not yet available)."""
