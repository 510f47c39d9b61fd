"""`policies/overrides.toml`: read with the other policy files, refused at its line."""

from __future__ import annotations

import shutil
from pathlib import Path

from app.policy.loader import check_directory
from app.policy.overrides import DEFAULT_OVERRIDES, overrides_of
from app.settings import PROJECT_ROOT


def _copy(tmp_path: Path) -> Path:
    copy = tmp_path / "policies"
    shutil.copytree(PROJECT_ROOT / "policies", copy)
    return copy


def test_the_organisations_settings_are_read_and_absent_ones_are_the_defaults(
    tmp_path: Path,
) -> None:
    copy = _copy(tmp_path)
    (copy / "overrides.toml").write_text(
        "# stricter\nmin_reason_length = 40\nrequest_expires_after_working_days = 3\n")
    settings = overrides_of(check_directory(copy).policy_set)
    assert (settings.min_reason_length, settings.request_expires_after_working_days) == (40, 3)
    assert settings.reason_problem("x" * 39) and settings.reason_problem(" " + "x" * 40) is None
    (copy / "overrides.toml").unlink()
    assert overrides_of(check_directory(copy).policy_set) == DEFAULT_OVERRIDES


def test_a_wrong_value_or_key_is_refused_with_the_file_and_line(tmp_path: Path) -> None:
    copy = _copy(tmp_path)
    (copy / "overrides.toml").write_text(
        "# too lax\nmin_reason_length = 0\nrequest_expires_after_days = 5\n")
    result = check_directory(copy)
    assert result.policy_set is None
    assert [str(p).split("policies/", 1)[1] for p in result.problems] == [
        "overrides.toml:2: min_reason_length must be at least 1 (got 0)",
        "overrides.toml:3: unknown key 'request_expires_after_days' at "
        "request_expires_after_days",
    ]
