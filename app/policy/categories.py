"""Case categories and sign-off kinds the policies may name: built-ins plus the organisation's.

Both are closed vocabularies so that a typo in a policy ("child_protection" as a
category, "child_protectoin" as a sign-off) is refused when the file is checked rather
than silently matching nothing: a category that matches no case protects nobody, and a
sign-off kind that matches no recorded sign-off means the rule never lifts.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Self

from app.policy.vocabulary import CaseCategory, SignOffKind

BUILTIN_LABELS: dict[str, str] = {
    CaseCategory.early_help.value: "early help",
    CaseCategory.child_in_need.value: "child in need",
    CaseCategory.child_protection_plan.value: "child protection plan",
    CaseCategory.care_proceedings.value: "care proceedings",
    CaseCategory.looked_after.value: "looked-after child",
    CaseCategory.care_leaver.value: "care leaver",
    CaseCategory.court_work.value: "court work",
    CaseCategory.other.value: "other",
}


@dataclass(frozen=True)
class _LabelledKeys:
    """A closed vocabulary: the known keys, each with its plain-English label. A subclass
    gives `labels` its built-in entries as the default."""

    labels: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def with_extra(cls, extra: Mapping[str, str]) -> Self:
        """The built-in keys plus the organisation's own (theirs win on a shared key)."""
        return cls({**cls().labels, **extra})

    def __contains__(self, key: object) -> bool:
        return key in self.labels

    def __iter__(self) -> Iterator[str]:
        return iter(self.labels)


@dataclass(frozen=True)
class Categories(_LabelledKeys):
    """Known category keys and their plain-English labels (for statements)."""

    labels: Mapping[str, str] = field(default_factory=lambda: dict(BUILTIN_LABELS))

    def label(self, key: str) -> str:
        return self.labels.get(key, key.replace("_", " "))

    def unknown(self, keys: Iterable[str]) -> list[str]:
        return [k for k in keys if k not in self.labels]


BUILTIN_CATEGORIES = Categories()


BUILTIN_SIGN_OFF_LABELS: dict[str, str] = {
    SignOffKind.child_protection.value: "child protection work",
}


@dataclass(frozen=True)
class SignOffKinds(_LabelledKeys):
    """Known sign-off kinds and what each is for, read after "signed off for": the
    built-in `child_protection` is "child protection work"."""

    labels: Mapping[str, str] = field(default_factory=lambda: dict(BUILTIN_SIGN_OFF_LABELS))

    def label(self, key: str) -> str:
        return self.labels.get(key, key.replace("_", " ") + " work")


BUILTIN_SIGN_OFFS = SignOffKinds()
