"""Breaches from earlier in the history, all resolved, each with its trail of events.

Current breaches are not generated: after loading, the demo runs the real sweep,
which finds them with the real engine. What the sweep cannot know is the past, so
finished programmes (and the earlier months of current ones) get the breaches a
real organisation would have recorded and then put right: a cap exceeded during a
busy month, a CP case allocated before sign-off, supervision that lapsed over summer.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from app.demo.diary import AddRow, Programme, next_working_day


@dataclass(frozen=True, slots=True)
class _Template:
    policy_id: str
    rule_id: str
    kind: str
    level: str
    severity: str
    severe: bool
    reason: str
    resolution: str
    escalate_after: int  # working days, as the shipped policy says


TEMPLATES: tuple[_Template, ...] = (
    _Template("stage-caps", "caseload-cap", "stage_cap", "block", "high", False,
              "7 cases exceed the cap of 5 for the first 3 months.",
              "5 cases, within the cap of 5 for the first 3 months.", 5),
    _Template("stage-caps", "caseload-cap", "stage_cap", "warn", "high", False,
              "17 cases exceed the cap of 15 after 6 months (a flexible cap: a manager may "
              "agree more with a recorded reason).",
              "14 cases, within the cap of 15 after 6 months.", 5),
    _Template("cp-coworking", "cp-coworking", "coworking", "block", "high", False,
              "1 case breaks the co-working rule: a child protection plan held by the NQSW "
              "as named holder.",
              "Every child protection plan or care proceedings case is co-worked with an "
              "advanced practitioner as named holder.", 3),
    _Template("complexity-gates", "complexity-gate", "complexity_gate", "block", "severe",
              True, "1 case breaks the complexity gate: complexity 4 before month 6.",
              "No case is above what is allowed at this stage of the programme.", 2),
    _Template("supervision", "supervision-frequency", "supervision", "warn", "high", False,
              "Supervision is overdue: 38 days since supervision; expected fortnightly at "
              "this stage.", "Supervision held; the next is due within a fortnight.", 3),
    _Template("protected-time", "protected-time", "protected_time", "warn", "medium", False,
              "Protected time is slipping: 2 bookings not rebooked within 10 working days.",
              "Protected time is on track.", 5),
)


def _stamp(day: date, hour: int) -> datetime:
    return datetime.combine(day, time(hour, 0), tzinfo=UTC)


def resolved_breaches(
    add: AddRow, rng: random.Random, p: Programme, until: date, *, senior_manager_id: int | None,
    count: int,
) -> None:
    """`count` breaches opened and resolved between the programme start and `until`."""
    last = min(p.end, until) - timedelta(days=45)
    if last <= p.start + timedelta(days=14):
        return
    for _ in range(count):
        template = rng.choice(TEMPLATES)
        opened = next_working_day(
            p.start + timedelta(days=rng.randint(14, (last - p.start).days))
        )
        resolved = opened + timedelta(days=rng.randint(1, 40))
        escalated_on = opened + timedelta(days=template.escalate_after + 2)
        escalated = template.severe or escalated_on < resolved
        evidence: dict[str, Any] = {
            "policy_id": template.policy_id, "rule_id": template.rule_id,
            "kind": template.kind, "outcome": template.level,
            "severity": template.severity, "reason": template.reason,
        }
        breach_id = add("breach", {
            "staff_id": p.staff_id, "enrolment_id": p.enrolment_id,
            "policy_id": template.policy_id, "rule_id": template.rule_id,
            "kind": template.kind, "level": template.level, "severity": template.severity,
            "severe": template.severe, "status": "resolved", "policy_version": "",
            "reason": template.reason, "opened_at": _stamp(opened, 6), "opened_on": opened,
            "last_seen_on": resolved - timedelta(days=1),
            "resolved_at": _stamp(resolved, 6), "resolved_on": resolved,
            "resolution": template.resolution, "evidence": evidence,
            "latest_evidence": evidence, "escalation_level": 1 if escalated else 0,
            "escalation_due_on": None if template.severe else escalated_on,
            "escalated_at": _stamp(opened if template.severe else escalated_on, 6)
            if escalated else None,
            "escalated_on": (opened if template.severe else escalated_on)
            if escalated else None,
            "acknowledged_by_id": p.manager_id,
            "acknowledged_at": _stamp(opened + timedelta(days=1), 10),
            "acknowledgement_note": "Discussed in supervision; plan agreed to put it right.",
            "exception_approver_id": None, "exception_reason": None,
            "exception_expires_on": None, "exception_granted_at": None,
            "override_by_id": None, "override_reason": None, "allocation_id": None,
            "updated_at": _stamp(resolved, 6),
        })
        events: list[tuple[date, str, str | None, str | None, int | None, str | None]] = [
            (opened, "opened", None, "open", None, None),
            (opened + timedelta(days=1), "acknowledged", "open", "acknowledged",
             p.manager_id, "Discussed in supervision; plan agreed to put it right."),
        ]
        if escalated:
            events.append((opened if template.severe else escalated_on, "escalated",
                           "acknowledged", "acknowledged", None,
                           "Escalated to the service area's senior manager"
                           if senior_manager_id else "Escalated"))
        events.append((resolved, "resolved", "acknowledged", "resolved", None,
                       template.resolution))
        for day, action, before, after, actor, note in sorted(events, key=lambda e: e[0]):
            add("breach_event", {
                "breach_id": breach_id, "at": _stamp(day, 6), "effective_on": day,
                "action": action, "from_status": before, "to_status": after,
                "actor_id": actor, "note": note, "data": None,
            })
