"""docs/policies.md shows what a rule sees; the table is generated from the snapshot's
types, and this test keeps the two the same (regenerate with
`python -m app.policy.snapshot_guide`)."""

from __future__ import annotations

import re

from app.policy.snapshot_guide import snapshot_reference
from app.settings import PROJECT_ROOT


def test_the_plug_in_guide_lists_exactly_the_snapshot_s_fields() -> None:
    text = (PROJECT_ROOT / "docs" / "policies.md").read_text(encoding="utf-8")
    found = re.search(r"<!-- snapshot:start -->\n(.*?)<!-- snapshot:end -->", text, re.S)
    assert found, "docs/policies.md has lost its snapshot reference markers"
    assert found.group(1) == snapshot_reference(), (
        "docs/policies.md's snapshot table differs from app/policy/snapshot.py: paste the "
        "output of `python -m app.policy.snapshot_guide` between the markers"
    )


def test_every_field_of_the_snapshot_is_in_the_reference() -> None:
    from dataclasses import fields

    from app.policy.snapshot import Snapshot

    reference = snapshot_reference()
    assert all(f"| `{field.name}` |" in reference for field in fields(Snapshot))
