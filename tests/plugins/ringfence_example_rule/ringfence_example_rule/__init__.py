"""`category_limit`: at most `max_cases` cases in the listed categories.

An example of a rule kind an organisation writes for itself and installs as a
package; Ringfence finds it through the `ringfence.rules` entry point group. It
uses only the documented contract: a `Params` model, `evaluate` and `describe`.
"""

from __future__ import annotations

from pydantic import Field

from app.policy.findings import Finding, Outcome
from app.policy.rules.base import DescribeContext, RuleContext
from app.policy.rules.common import StrictParams
from app.policy.snapshot import Snapshot


class Params(StrictParams):
    """Unknown keys and quoted numbers are refused at their line, as for the built-ins."""

    categories: tuple[str, ...] = Field(min_length=1)
    max_cases: int = Field(ge=0)


def evaluate(snapshot: Snapshot, params: Params, context: RuleContext) -> Finding:
    # The caseload already holds the proposed case when the question is "may we allocate
    # this?": count it once, from here (context.proposed only says which one it is).
    count = sum(1 for item in snapshot.caseload if item.category in params.categories)
    labels = " or ".join(context.categories.label(c) for c in params.categories)
    if count > params.max_cases:
        return context.finding(
            context.enforcement,
            f"{count} {labels} cases exceed the limit of {params.max_cases}.",
            measured=float(count),
            limit=float(params.max_cases),
        )
    return context.finding(
        Outcome.ok,
        f"{count} {labels} cases, within the limit of {params.max_cases}.",
        measured=float(count),
        limit=float(params.max_cases),
    )


def describe(params: Params, context: DescribeContext) -> str:
    labels = " or ".join(context.categories.label(c) for c in params.categories)
    return f"You will hold no more than {params.max_cases} {labels} cases at a time."
