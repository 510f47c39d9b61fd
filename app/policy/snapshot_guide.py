"""The reference of what a rule sees, generated from the snapshot's own types.

docs/policies.md shows it between `<!-- snapshot:start -->` and `<!-- snapshot:end -->`;
tests/unit/policy/test_snapshot_guide.py fails when the two differ, so a field added to
`Snapshot` cannot go undocumented. Print it with `python -m app.policy.snapshot_guide`.
"""

from __future__ import annotations

import dataclasses
import inspect
import re
import typing
from typing import Any

from app.policy import snapshot as module
from app.policy.snapshot import Snapshot

# The records a snapshot holds, in the order a reader meets them.
RECORDS: tuple[type, ...] = (
    module.CaseLoadItem, module.PauseSpan, module.SignOffRecord, module.AdjustmentRecord,
    module.ProtectedTimeEntry, module.SupervisionRecord, module.ReviewRecord,
    module.HoursPeriod,
)


def _type_text(annotation: Any) -> str:
    text = annotation if isinstance(annotation, str) else getattr(
        annotation, "__name__", str(annotation))
    return re.sub(r"\b(typing|datetime|app\.policy\.snapshot)\.", "", text)


def _default(field: dataclasses.Field[Any]) -> str:
    if field.default is not dataclasses.MISSING:
        return f"`{field.default!r}`"
    if field.default_factory is not dataclasses.MISSING:
        return f"`{field.default_factory()!r}`"
    return "required"


def _table(cls: type) -> list[str]:
    hints = typing.get_type_hints(cls, globalns=vars(module))
    lines = [f"**`{cls.__name__}`**: {inspect.getdoc(cls) or ''}".rstrip(), "",
             "| field | type | default |", "| --- | --- | --- |"]
    for field in dataclasses.fields(cls):
        shown = _type_text(field.type) if isinstance(field.type, str) else _type_text(
            hints[field.name])
        shown = shown.replace("|", "\\|")  # a union's bar would end the table cell
        lines.append(f"| `{field.name}` | `{shown}` | {_default(field)} |")
    return [*lines, ""]


def snapshot_reference() -> str:
    """The markdown reference of `Snapshot` and the records it holds."""
    lines: list[str] = []
    for cls in (Snapshot, *RECORDS):
        lines += _table(cls)
    return "\n".join(lines).rstrip() + "\n"


if __name__ == "__main__":
    print(snapshot_reference(), end="")
