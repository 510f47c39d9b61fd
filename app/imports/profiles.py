"""Mapping profiles: which column of an export is which of our fields, and how its codes
translate into the organisation's vocabulary.

A profile is a TOML file. The shipped ones (this package's `profiles/` folder) show the
shape of an LCS-, Mosaic- and Eclipse-style export; their column names are illustrative,
since every organisation's export is configured differently. An organisation keeps its
own profiles in a directory of its choosing (`--profiles-dir`), where a file of the same
name replaces the shipped one. A bad profile is refused with the file and the line, so a
coordinator can fix it without reading code.
"""

from __future__ import annotations

import tomllib
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any, Literal

from app.models.base import AllocationRole
from app.models.imports import ImportKind
from app.policy.loader import Problem
from app.policy.toml_lines import key_lines, line_of
from app.policy.vocabulary import CaseCategory, Role

SHIPPED_DIR = Path(__file__).parent / "profiles"
DEFAULT_DATE_FORMATS = ("%d/%m/%Y", "%d/%m/%Y %H:%M", "%d/%m/%Y %H:%M:%S", "%Y-%m-%d")


@dataclass(frozen=True)
class FieldSpec:
    required: bool
    coded: bool = False  # the value goes through the profile's code table for the field


FIELDS: dict[ImportKind, dict[str, FieldSpec]] = {
    ImportKind.staff: {
        "staff_number": FieldSpec(False),
        "name": FieldSpec(True),
        "email": FieldSpec(True),
        "role": FieldSpec(True, coded=True),
        "team": FieldSpec(False),
        "fte": FieldSpec(False),
        "contracted_hours": FieldSpec(False),
        "start_date": FieldSpec(True),
        "leave_date": FieldSpec(False),
    },
    ImportKind.cases: {
        "reference": FieldSpec(True),
        "category": FieldSpec(True, coded=True),
        "complexity": FieldSpec(True, coded=True),
        "team": FieldSpec(False),
        "opened_on": FieldSpec(True),
        "closed_on": FieldSpec(False),
    },
    ImportKind.allocations: {
        "reference": FieldSpec(False),
        "case": FieldSpec(True),
        "worker": FieldSpec(True),
        "role": FieldSpec(True, coded=True),
        "start_date": FieldSpec(True),
        "end_date": FieldSpec(False),
    },
}

WorkerMatch = Literal["email", "staff_number"]


@dataclass(frozen=True)
class KindMapping:
    """One kind of export: our field -> its column heading, and code tables by field."""

    columns: dict[str, str]
    codes: dict[str, dict[str, Any]] = field(default_factory=dict)

    def code(self, name: str, value: str) -> Any | None:
        """The organisation's value for a source code (case and spaces ignored), or None."""
        table = self.codes.get(name, {})
        wanted = " ".join(value.split()).casefold()
        for source, ours in table.items():
            if " ".join(source.split()).casefold() == wanted:
                return ours
        return None


@dataclass(frozen=True)
class Profile:
    name: str
    title: str
    path: Path
    date_formats: tuple[str, ...]
    worker_match: WorkerMatch
    kinds: dict[ImportKind, KindMapping]

    def mapping(self, kind: ImportKind) -> KindMapping:
        found = self.kinds.get(kind)
        if found is None:
            raise ProfileError([Problem(str(self.path), 1,
                                        f"profile {self.name!r} has no [{kind.value}] table")])
        return found

    def parse_date(self, value: str) -> date | None:
        """A date written in one of the profile's formats (UK day-first by default)."""
        for fmt in self.date_formats:
            try:
                return datetime.strptime(value, fmt).date()
            except ValueError:
                continue
        return None


class ProfileError(Exception):
    """A profile cannot be used; every problem names its file and line."""

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems = sorted(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


def _targets_for(kind: ImportKind, name: str, categories: Collection[str]) -> Collection[Any]:
    """What a code table for this field may translate into."""
    if kind is ImportKind.staff:
        return [r.value for r in Role]
    if kind is ImportKind.allocations:
        return [r.value for r in AllocationRole]
    if name == "category":
        return categories
    return [1, 2, 3, 4]


def _check_kind(kind: ImportKind, table: Any, categories: Collection[str],
                problem: Any) -> KindMapping | None:
    here = (kind.value,)
    if not isinstance(table, dict):
        problem(here, f"[{kind.value}] must be a table")
        return None
    ok = True
    for key in table:
        if key not in ("columns", "codes"):
            problem((*here, key), f"unknown key {key!r}: a kind has `columns` and `codes`")
            ok = False
    columns = table.get("columns")
    specs = FIELDS[kind]
    if not isinstance(columns, dict):
        problem(here, f"[{kind.value}.columns] is missing: name the column of each field")
        return None
    for name, heading in columns.items():
        if name not in specs:
            problem((*here, "columns", name),
                    f"unknown field {name!r}; the fields are {', '.join(specs)}")
            ok = False
        elif not isinstance(heading, str) or not heading.strip():
            problem((*here, "columns", name), "a column heading must be non-empty text")
            ok = False
    for name, spec in specs.items():
        if spec.required and name not in columns:
            problem((*here, "columns"), f"the required field {name!r} has no column")
            ok = False
    codes = table.get("codes", {})
    if not isinstance(codes, dict):
        problem((*here, "codes"), "codes must be a table of code tables")
        return None
    for name, entries in codes.items():
        if name not in specs or not specs[name].coded:
            coded = [n for n, s in specs.items() if s.coded]
            problem((*here, "codes", name),
                    f"{name!r} takes no code table; coded fields are {', '.join(coded)}")
            ok = False
            continue
        if not isinstance(entries, dict):
            problem((*here, "codes", name), "a code table maps source codes to our values")
            ok = False
            continue
        allowed = _targets_for(kind, name, categories)
        for source, ours in entries.items():
            if ours not in allowed or isinstance(ours, bool):
                shown = ", ".join(str(a) for a in allowed)
                problem((*here, "codes", name, source),
                        f"{source!r} maps to {ours!r}, which is not one of: {shown}")
                ok = False
    if not ok:
        return None
    return KindMapping(columns={k: v.strip() for k, v in columns.items()},
                       codes={k: dict(v) for k, v in codes.items()})


def load_profile(path: Path, categories: Collection[str] | None = None) -> Profile:
    """The profile in `path`, or `ProfileError` listing every problem with its line."""
    known = list(categories) if categories is not None else [c.value for c in CaseCategory]
    display = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ProfileError([Problem(display, 1, f"cannot read the profile: {exc}")]) from exc
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        line = getattr(exc, "lineno", None) or 1
        raise ProfileError([Problem(display, line, f"not valid TOML: {exc}")]) from exc
    lines = key_lines(text)
    problems: list[Problem] = []

    def problem(loc: tuple[str | int, ...], reason: str) -> None:
        problems.append(Problem(display, line_of(lines, loc), reason))

    allowed_top = {"title", "date_formats", "worker_match", *(k.value for k in ImportKind)}
    for key in data:
        if key not in allowed_top:
            problem((key,), f"unknown key {key!r}; a profile has {', '.join(sorted(allowed_top))}")
    formats = data.get("date_formats", list(DEFAULT_DATE_FORMATS))
    if not isinstance(formats, list) or not formats or not all(
        isinstance(f, str) and "%" in f for f in formats
    ):
        problem(("date_formats",), "date_formats must be a list of formats such as \"%d/%m/%Y\"")
        formats = list(DEFAULT_DATE_FORMATS)
    match = data.get("worker_match", "email")
    if match not in ("email", "staff_number"):
        problem(("worker_match",), "worker_match must be \"email\" or \"staff_number\"")
    kinds: dict[ImportKind, KindMapping] = {}
    for kind in ImportKind:
        if kind.value in data:
            mapping = _check_kind(kind, data[kind.value], known, problem)
            if mapping is not None:
                kinds[kind] = mapping
    if not kinds and not problems:
        problem((), "a profile maps at least one of [staff], [cases] or [allocations]")
    if problems:
        raise ProfileError(problems)
    return Profile(name=path.stem, title=str(data.get("title", path.stem)), path=path,
                   date_formats=tuple(formats), worker_match=match, kinds=kinds)


def profile_paths(extra_dir: Path | None = None) -> dict[str, Path]:
    """Every profile by name: the shipped ones, then the organisation's (theirs win)."""
    found = {p.stem: p for p in sorted(SHIPPED_DIR.glob("*.toml"))}
    if extra_dir is not None:
        found.update({p.stem: p for p in sorted(Path(extra_dir).glob("*.toml"))})
    return found


def find_profile(name: str, extra_dir: Path | None = None,
                 categories: Collection[str] | None = None) -> Profile:
    """The named profile, or `ProfileError` saying which names exist."""
    paths = profile_paths(extra_dir)
    if name not in paths:
        raise ProfileError([Problem(name, 1, "no such profile; known profiles: "
                                    + ", ".join(sorted(paths)))])
    return load_profile(paths[name], categories)
