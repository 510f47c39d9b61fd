"""Case categories the policies may name: the built-ins plus the organisation's own.

Categories are a closed vocabulary so that a typo in a policy ("child_protection")
is refused when the file is checked rather than silently matching nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field

from app.policy.vocabulary import CaseCategory

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
class Categories:
    """Known category keys and their plain-English labels (for statements)."""

    labels: Mapping[str, str] = field(default_factory=lambda: dict(BUILTIN_LABELS))

    @classmethod
    def with_extra(cls, extra: Mapping[str, str]) -> Categories:
        return cls({**BUILTIN_LABELS, **extra})

    def __contains__(self, key: object) -> bool:
        return key in self.labels

    def __iter__(self) -> Iterator[str]:
        return iter(self.labels)

    def label(self, key: str) -> str:
        return self.labels.get(key, key.replace("_", " "))

    def unknown(self, keys: Iterable[str]) -> list[str]:
        return [k for k in keys if k not in self.labels]


BUILTIN_CATEGORIES = Categories()
