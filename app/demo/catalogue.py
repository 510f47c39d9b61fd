"""What a children's services team looks like: its kind of work and the cases it holds.

The mixes are rough shapes of English local-authority practice, enough for the demo
to look familiar to a team manager and for the benchmarks to see the same spread of
categories and complexities a real organisation would.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

# Categories an NQSW may not hold alone before sign-off (the default policies' gates).
GATED_CATEGORIES: frozenset[str] = frozenset({"child_protection_plan", "care_proceedings"})
# Work kept away from NQSWs entirely in the generator (court work goes to experienced staff).
EXPERIENCED_ONLY: frozenset[str] = frozenset({"court_work"})


@dataclass(frozen=True, slots=True)
class TeamKind:
    key: str
    label: str
    mix: tuple[tuple[str, float], ...]  # (category, weight)

    def category(self, rng: random.Random, *, exclude: frozenset[str] = frozenset()) -> str:
        options = [(c, w) for c, w in self.mix if c not in exclude]
        if not options:
            return "child_in_need"
        return rng.choices([c for c, _ in options], weights=[w for _, w in options])[0]


TEAM_KINDS: dict[str, TeamKind] = {
    kind.key: kind
    for kind in (
        TeamKind("front_door", "Front Door",
                 (("early_help", 0.5), ("child_in_need", 0.4), ("other", 0.1))),
        TeamKind("assessment", "Assessment",
                 (("child_in_need", 0.65), ("early_help", 0.1),
                  ("child_protection_plan", 0.25))),
        TeamKind("safeguarding", "Child Protection",
                 (("child_protection_plan", 0.5), ("child_in_need", 0.25),
                  ("care_proceedings", 0.15), ("court_work", 0.1))),
        TeamKind("family_support", "Family Support",
                 (("child_in_need", 0.5), ("early_help", 0.4),
                  ("child_protection_plan", 0.1))),
        TeamKind("children_in_care", "Children in Care",
                 (("looked_after", 0.7), ("child_in_need", 0.15),
                  ("care_proceedings", 0.1), ("court_work", 0.05))),
        TeamKind("leaving_care", "Leaving Care",
                 (("care_leaver", 0.85), ("looked_after", 0.15))),
        TeamKind("disabled_children", "Disabled Children",
                 (("child_in_need", 0.7), ("looked_after", 0.2),
                  ("child_protection_plan", 0.1))),
    )
}

# The demo's eight teams, in order, with the service area each belongs to. Larger
# organisations repeat the same cycle of kinds across more localities.
DEMO_TEAMS: tuple[tuple[str, str, int], ...] = (
    ("Front Door (MASH)", "front_door", 0),
    ("Assessment North", "assessment", 0),
    ("Assessment South", "assessment", 0),
    ("Child Protection East", "safeguarding", 1),
    ("Child Protection West", "safeguarding", 1),
    ("Family Support", "family_support", 1),
    ("Children in Care", "children_in_care", 2),
    ("Leaving Care", "leaving_care", 2),
)
KIND_CYCLE: tuple[str, ...] = (
    "front_door", "assessment", "assessment", "safeguarding", "safeguarding",
    "family_support", "children_in_care", "leaving_care", "disabled_children", "safeguarding",
)

# Complexity (1..4) weights by category.
COMPLEXITY: dict[str, tuple[float, float, float, float]] = {
    "early_help": (0.6, 0.35, 0.05, 0.0),
    "child_in_need": (0.15, 0.5, 0.3, 0.05),
    "child_protection_plan": (0.0, 0.0, 0.6, 0.4),
    "care_proceedings": (0.0, 0.0, 0.3, 0.7),
    "looked_after": (0.0, 0.4, 0.45, 0.15),
    "care_leaver": (0.3, 0.5, 0.2, 0.0),
    "court_work": (0.0, 0.0, 0.5, 0.5),
    "other": (0.5, 0.5, 0.0, 0.0),
}


def complexity(rng: random.Random, category: str, *, most: int = 4) -> int:
    """A complexity for the category, never above `most` (an NQSW's gate)."""
    weights = list(COMPLEXITY.get(category, (0.25, 0.25, 0.25, 0.25)))[:most]
    if sum(weights) == 0:
        return min(most, 4)
    return rng.choices(range(1, most + 1), weights=weights)[0]
