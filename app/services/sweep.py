"""The sweep: reconcile every NQSW's breaches as of a date, for what time alone can trip.

A stage boundary passing, a pause ending, protected time falling behind, supervision
becoming overdue, an escalation deadline or an exception expiring: none of these is a
request, so the sweep runs daily (in-process scheduler) or on demand
(`ringfence sweep --as-of DATE`). A sweep may replay a date earlier than the last one:
what it finds for that date is reported (a breach detected later whose problem had
already begun then is found, never resolved from the earlier day). It works in batches of
NQSWs, each batch a constant number of queries (snapshots, breaches and recipients are
loaded together). Here it runs in the caller's transaction; app.jobs.sweep commits each
batch on its own when it is run from the command line or the scheduler, so locks on NQSWs
are held briefly.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any

from sqlmodel import Session

from app.repositories.breach import with_unresolved_breaches
from app.repositories.enrolment import enrolled_on
from app.services.reconcile import ReconcileResult, Trigger, lock_staff, reconcile_staff
from app.services.snapshots import load_snapshots

if TYPE_CHECKING:
    from app.policy.registry import PolicySet


BATCH_SIZE = 200


# How many of the breaches found a report lists one by one (the longest-running first);
# the counts always cover them all.
LISTED = 100


@dataclass(frozen=True, slots=True)
class FoundBreach:
    """An unresolved breach the sweep found for its date: which, and since when."""

    id: int
    staff_id: int
    policy_id: str
    rule_id: str
    kind: str
    began_on: date
    opened_on: date

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "staff_id": self.staff_id, "policy_id": self.policy_id,
                "rule_id": self.rule_id, "kind": self.kind, "began_on": self.began_on,
                "opened_on": self.opened_on}


@dataclass
class SweepReport:
    """What a sweep did, and what it found for its date.

    `found`: every breach unresolved for `as_of` after the sweep (opened or kept), so a
    sweep replaying an earlier date than the last one still says what was wrong then:
    a breach detected later whose problem had already begun is found, with the day it
    began (moved earlier when this date shows it began earlier: `began_earlier`).
    """

    as_of: date
    nqsws: int = 0
    batches: int = 0
    counts: dict[str, int] = field(default_factory=dict)
    found: list[FoundBreach] = field(default_factory=list)

    def add(self, result: ReconcileResult) -> None:
        for key, value in result.counts().items():
            self.counts[key] = self.counts.get(key, 0) + value
        self.found.extend(
            FoundBreach(id=b.id, staff_id=b.staff_id, policy_id=b.policy_id,
                        rule_id=b.rule_id, kind=b.kind, began_on=b.began_on,
                        opened_on=b.opened_on)
            for b in result.found() if b.id is not None
        )

    def longest_running(self, limit: int | None = LISTED) -> list[FoundBreach]:
        """The breaches found, the one whose problem began first first."""
        ordered = sorted(self.found, key=lambda f: (f.began_on, f.id))
        return ordered if limit is None else ordered[:limit]

    def as_dict(self) -> dict[str, Any]:
        return {
            "as_of": self.as_of,
            "nqsws": self.nqsws,
            **{k: self.counts.get(k, 0)
               for k in ("opened", "kept", "resolved", "escalated", "reopened",
                         "began_earlier")},
            "unresolved": len(self.found),
            "found": [f.as_dict() for f in self.longest_running()],
        }


def population(session: Session, as_of: date) -> list[int]:
    """Everyone enrolled on `as_of`, plus anyone with an unresolved breach (whose programme
    may have ended: their breaches are resolved)."""
    return sorted(set(enrolled_on(session, as_of)) | with_unresolved_breaches(session))


def sweep_batch(
    session: Session, *, staff_ids: Sequence[int], as_of: date, policies: PolicySet
) -> ReconcileResult:
    """Lock, load and reconcile one batch of NQSWs (constant number of queries)."""
    lock_staff(session, staff_ids)
    snapshots = load_snapshots(session, staff_ids, as_of, policies=policies)
    return reconcile_staff(
        session, staff_ids=staff_ids, on=as_of, policies=policies,
        trigger=Trigger.daily_check(as_of), snapshots=snapshots,
    )


def sweep_in_session(
    session: Session, *, as_of: date, policies: PolicySet, batch_size: int = BATCH_SIZE
) -> SweepReport:
    """The whole sweep inside the caller's transaction (the API's "run now", tests)."""
    ids = population(session, as_of)
    report = SweepReport(as_of=as_of, nqsws=len(ids))
    for start in range(0, len(ids), batch_size):
        report.add(sweep_batch(session, staff_ids=ids[start:start + batch_size],
                               as_of=as_of, policies=policies))
        report.batches += 1
    return report
