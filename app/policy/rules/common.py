"""Pieces shared by the built-in rule kinds: strict parameter models, bands, wording."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from types import UnionType
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    model_validator,
)

from app.policy.categories import (
    BUILTIN_CATEGORIES,
    BUILTIN_SIGN_OFFS,
    Categories,
    SignOffKinds,
)
from app.policy.findings import Outcome
from app.policy.rules.base import Loc, ParamProblems

# Case complexity runs 1 (least) to 4 (most), as on the case record.
MAX_COMPLEXITY = 4

EnforcementName = Literal["warn", "block"]


class StrictParams(BaseModel):
    """Parameters refuse unknown keys, so that a misspelt parameter is an error, not a
    no-op, and are strictly typed, so that `cap = "5"` (a quoted number, which TOML
    reads as text) is refused at its line rather than quietly read as 5."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    @model_validator(mode="before")
    @classmethod
    def _numbers_are_not_text(cls, data: Any) -> Any:
        """A quoted number is text in TOML: refuse it where a number is wanted, at its key
        (Pydantic would otherwise read "5" as 5, and a typo like "5 cases" as an error far
        from what the author meant)."""
        if not isinstance(data, dict):
            return data
        problems = [
            ((name,), f"give a number, not text: write {value.strip()} without quotes"
             if _looks_numeric(value) else "give a number, not text")
            for name, value in data.items()
            if isinstance(value, str) and name in cls.model_fields
            and _wants_number(cls.model_fields[name].annotation)
        ]
        if problems:
            raise ParamProblems(problems)
        return data


def _wants_number(annotation: Any) -> bool:
    """The field takes a number (int or float, possibly optional), and nothing textual."""
    options = get_args(annotation) if get_origin(annotation) in (Union, UnionType) else (
        annotation,)
    kinds = {get_origin(option) or option for option in options} - {type(None)}
    return bool(kinds) and all(kind in (int, float) for kind in kinds)


def _looks_numeric(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


class MonthBand(StrictParams):
    """A span of programme months: `from_month` inclusive to `to_month` exclusive.

    `to_month` left out means "to the end of the programme" (only the last band).
    """

    from_month: int = Field(ge=0)
    to_month: int | None = Field(default=None, gt=0)

    @model_validator(mode="after")
    def _ends_after_start(self) -> MonthBand:
        if self.to_month is not None and self.to_month <= self.from_month:
            raise ValueError(
                f"to_month ({self.to_month}) must be after from_month ({self.from_month})"
            )
        return self

    def covers(self, months: int) -> bool:
        return self.from_month <= months and (self.to_month is None or months < self.to_month)


def band_problems(bands: Sequence[MonthBand], name: str = "band") -> list[tuple[Loc, str]]:
    """Bands must start at month 0 and follow on without gaps or overlaps."""
    problems: list[tuple[Loc, str]] = []
    if not bands:
        return [((), f"at least one {name} is required")]
    if bands[0].from_month != 0:
        problems.append(
            ((0, "from_month"), f"the first {name} must start at month 0, not month "
             f"{bands[0].from_month} (a gap before it)")
        )
    for index in range(1, len(bands)):
        prev, band = bands[index - 1], bands[index]
        if prev.to_month is None:
            problems.append(
                ((index - 1, "to_month"), f"only the last {name} may leave to_month out "
                 f"({name} {index + 1} follows it)")
            )
            continue
        if band.from_month < prev.to_month:
            problems.append(
                ((index, "from_month"), f"{name} {index + 1} (from month {band.from_month}) "
                 f"overlaps {name} {index} (to month {prev.to_month})")
            )
        elif band.from_month > prev.to_month:
            problems.append(
                ((index, "from_month"), f"gap between month {prev.to_month} and month "
                 f"{band.from_month}: {name} {index + 1} must start at month {prev.to_month}")
            )
    return problems


def coverage_problems(
    bands: Sequence[MonthBand], months: int, field: str = "bands"
) -> list[tuple[Loc, str]]:
    """Bands that stop before the end of a programme leave its last months unprotected."""
    last = bands[-1] if bands else None
    if last is not None and last.to_month is not None and last.to_month < months:
        return [
            ((field, len(bands) - 1, "to_month"),
             f"the last band ends at month {last.to_month} but the programme runs "
             f"{months} months (leave to_month out to cover the rest)")
        ]
    return []


def band_at(bands: Sequence[Any], months: int) -> Any | None:
    for band in bands:
        if band.from_month <= months and (band.to_month is None or months < band.to_month):
            return band
    return None


def categories_of(info: ValidationInfo) -> Categories:
    context = info.context or {}
    categories = context.get("categories") if isinstance(context, dict) else None
    return categories if isinstance(categories, Categories) else BUILTIN_CATEGORIES


def unknown_category_problems(
    keys: Iterable[str], categories: Categories, what: str = "category"
) -> list[tuple[Loc, str]]:
    return [
        ((index,), f"unknown {what} {key!r} (add it to policies/categories.toml)")
        for index, key in enumerate(keys)
        if key not in categories
    ]


def known_categories(keys: tuple[str, ...], info: ValidationInfo) -> tuple[str, ...]:
    """Refuse a category the organisation does not know: a typo would match no case."""
    problems = unknown_category_problems(keys, categories_of(info))
    if problems:
        raise ParamProblems(problems)
    return keys


# Case categories named by a policy, each checked against the organisation's own.
CategoryKeys = Annotated[tuple[str, ...], AfterValidator(known_categories)]


def sign_offs_of(info: ValidationInfo) -> SignOffKinds:
    context = info.context or {}
    kinds = context.get("sign_offs") if isinstance(context, dict) else None
    return kinds if isinstance(kinds, SignOffKinds) else BUILTIN_SIGN_OFFS


def known_sign_off(kind: str | None, info: ValidationInfo) -> str | None:
    """Refuse a sign-off kind the organisation does not record: the rule would never lift."""
    if not kind:
        return kind
    kinds = sign_offs_of(info)
    if kind not in kinds:
        known = ", ".join(sorted(kinds))
        raise ParamProblems([(
            (), f"unknown sign-off kind {kind!r} (known: {known}; add it to "
            "policies/sign-offs.toml)"
        )])
    return kind


# A sign-off kind named by a policy, checked against the organisation's own.
SignOffName = Annotated[str, AfterValidator(known_sign_off)]


def outcome_of(name: str | None, default: Outcome) -> Outcome:
    return default if name is None else Outcome(name)


# --- wording -----------------------------------------------------------------------------


def number(value: float) -> str:
    """5.0 -> "5", 5.5 -> "5.5", 2/3 -> "0.67": how a manager would write it."""
    if float(value).is_integer():
        return str(int(value))
    return f"{value:.2f}".rstrip("0").rstrip(".")


def fraction_words(value: float) -> str:
    """0.5 -> "half", 0.25 -> "a quarter"; other fractions as numbers."""
    return {0.5: "half", 0.25: "a quarter", 0.75: "three quarters"}.get(value, number(value))


def percent(value: float) -> str:
    return f"{number(round(value * 100, 1))}%"


def plural(count: float, word: str, many: str | None = None) -> str:
    return f"{number(count)} {word if count == 1 else (many or word + 's')}"


def months_text(count: int) -> str:
    return "1 month" if count == 1 else f"{count} months"


def stage_words(completed_months: int) -> str:
    """Where the NQSW is, as a manager says it: 0 completed months is "month 1"."""
    return f"in month {completed_months + 1} of the programme"


def agree(count: float, singular: str, many: str) -> str:
    """The verb that agrees with a count: "1 case breaks", "2 cases break"."""
    return singular if count == 1 else many


def _band_words(from_month: int, to_month: int | None, *, whole: str, first: str) -> str:
    if to_month is None:
        return whole if from_month == 0 else f"after {months_text(from_month)}"
    if from_month == 0:
        return f"{first} {months_text(to_month)}"
    return f"from {from_month} to {months_text(to_month)}"


def band_span(from_month: int, to_month: int | None) -> str:
    """The band as the end of a sentence: "for the first 3 months", "after 6 months"."""
    return _band_words(from_month, to_month, whole="throughout the programme",
                       first="for the first")


def band_opening(from_month: int, to_month: int | None) -> str:
    """The band as the start of a sentence: "In your first 3 months", "After 6 months"."""
    text = _band_words(from_month, to_month, whole="throughout your programme",
                       first="in your first")
    return text[:1].upper() + text[1:]


def join_words(words: Sequence[str], last: str = "and") -> str:
    if not words:
        return ""
    if len(words) == 1:
        return words[0]
    return f"{', '.join(words[:-1])} {last} {words[-1]}"
