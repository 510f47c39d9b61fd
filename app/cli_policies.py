"""Placeholder: the policy engine owner replaces this module."""

import typer

policies_app = typer.Typer()
