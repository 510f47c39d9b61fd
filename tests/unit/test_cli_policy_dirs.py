"""`ringfence policies check` and `explain` take the policy directory the same two ways,
so a command line written for one works for the other."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from app.cli_policies import policies_app
from app.settings import PROJECT_ROOT

POLICY_DIR = PROJECT_ROOT / "policies"


@pytest.fixture()
def changed(tmp_path: Path) -> Path:
    """A copy of the shipped policies whose first cap reads 4, so output shows which
    directory was read."""
    copy = tmp_path / "policies"
    shutil.copytree(POLICY_DIR, copy)
    caps = copy / "stage-caps.toml"
    caps.write_text(caps.read_text().replace("cap = 5", "cap = 4", 1))
    return copy


@pytest.mark.parametrize("command", [["check"], ["explain", "-p", "asye", "--width", "500"]])
@pytest.mark.parametrize("how", ["argument", "option"])
def test_both_commands_take_the_directory_either_way(
    changed: Path, command: list[str], how: str
) -> None:
    where = [str(changed)] if how == "argument" else ["--dir", str(changed)]
    result = CliRunner().invoke(policies_app, [*command, *where])
    assert result.exit_code == 0, result.output
    if command[0] == "check":
        assert f"checked in {changed}" in result.output
    else:
        assert "you will hold no more than 4 cases" in result.output


@pytest.mark.parametrize("command", ["check", "explain"])
def test_two_different_directories_are_refused(changed: Path, command: str) -> None:
    result = CliRunner().invoke(policies_app, [command, str(changed), "--dir", str(POLICY_DIR)])
    assert result.exit_code == 2
    assert "two policy directories given" in result.output
