"""The escalation ladder: who is told about a breach, and when it climbs.

* The NQSW's team manager is told the moment a breach opens.
* Unresolved after the policy's number of working days (England and Wales bank
  holidays excluded), it escalates to the senior manager of the team's service area.
* A severe rule (or one escalating after 0 days) tells both at once.
* Excepted and overridden breaches do not climb: a person with the right role has
  already decided about them. Acknowledged ones still do: seeing is not fixing.
* ASYE coordinators see every breach on the dashboards; they are told directly only
  when there is no team manager to tell.
* The NQSW is told too, when a breach about them opens, in words meant for them (the
  breach is about their workload; putting it right is their managers' job).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

from sqlmodel import Session

from app.clock import now_utc
from app.models import Breach
from app.models.breach import BreachEvent, BreachStatus
from app.policy.policies import Escalation
from app.repositories import staff as staff_repo
from app.services import audit, notify
from app.services.working_days import add_working_days

if TYPE_CHECKING:
    from app.policy.registry import PolicySet


ESCALATING_STATUSES = frozenset({BreachStatus.open.value, BreachStatus.acknowledged.value})


@dataclass(frozen=True)
class Recipients:
    """The people a breach of one NQSW's rule reaches."""

    staff_id: int
    nqsw_name: str
    team_id: int | None
    team_name: str | None
    team_manager_id: int | None
    service_area_id: int | None
    senior_manager_id: int | None


def recipients_for(session: Session, staff_ids: Iterable[int]) -> dict[int, Recipients]:
    """Team manager and senior manager of each NQSW's team, in one query."""
    return {
        row[0]: Recipients(*row) for row in staff_repo.managers_of(session, staff_ids)
    }


def coordinators(session: Session) -> list[int]:
    """The ASYE coordinators still in post: told when a breach has no team manager."""
    return staff_repo.ids_in_post_with_role(session, "asye_coordinator")


def rule_escalation(policies: PolicySet | None, policy_id: str, rule_id: str) -> Escalation:
    """The escalation settings of the rule (or its policy) that raised a breach."""
    if policies is not None:
        try:
            return policies.rule(policy_id, rule_id).escalation
        except KeyError:
            if policy_id in policies:
                return policies.policy(policy_id).escalation
    return Escalation()


def is_severe(escalation: Escalation, severity: str) -> bool:
    return escalation.severe or escalation.after_working_days == 0 or severity == "severe"


def escalation_target(
    session: Session, escalation: Escalation, recipients: Recipients | None
) -> list[int]:
    """Who a breach climbs to: the service area's senior manager by default."""
    if escalation.to == "asye_coordinator":
        return coordinators(session)
    if escalation.to == "team_manager":
        return [recipients.team_manager_id] if recipients and recipients.team_manager_id else []
    target = recipients.senior_manager_id if recipients else None
    return [target] if target else coordinators(session)


def first_told(session: Session, recipients: Recipients | None) -> list[int]:
    """The team manager, or the coordinators when the NQSW has no team manager."""
    if recipients and recipients.team_manager_id:
        return [recipients.team_manager_id]
    return coordinators(session)


def _number(value: Any) -> str | None:
    """A measure as a person writes it: 6, 5.5, 0.6 (never 6.0)."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return str(int(value)) if float(value).is_integer() else f"{value:g}"
    return str(value)


def rule_title(policies: PolicySet | None, policy_id: str, rule_id: str) -> str | None:
    """The rule's title from the policy file (or the policy's), for people to read."""
    if policies is None:
        return None
    try:
        rule = policies.rule(policy_id, rule_id)
    except (KeyError, AttributeError):
        return None
    return rule.title or (rule.policy.title if rule.policy is not None else None)


def breach_context(
    breach: Breach, recipients: Recipients | None, *, title: str | None = None
) -> dict[str, Any]:
    """What an email or inbox entry about the breach says: the rule, the measure against
    its limit, who has been told, and whether it was allowed at allocation."""
    evidence = breach.latest_evidence or breach.evidence or {}
    evidence = evidence if isinstance(evidence, dict) else {}
    return {
        "breach": {
            "id": breach.id,
            "policy_id": breach.policy_id,
            "rule_id": breach.rule_id,
            "rule_title": title,
            "kind": breach.kind,
            "level": breach.level,
            "severity": breach.severity,
            "severe": breach.severe,
            "status": breach.status,
            "overridden": breach.status == BreachStatus.overridden.value,
            "override_reason": breach.override_reason,
            "reason": breach.reason,
            "measured": _number(evidence.get("measured")),
            "limit": _number(evidence.get("limit")),
            "opened_on": breach.opened_on,
            "escalation_level": breach.escalation_level,
            "escalation_due_on": breach.escalation_due_on,
            "resolution": breach.resolution,
            "resolution_cause": breach.resolution_cause,
        },
        "nqsw": {
            "id": breach.staff_id,
            "name": recipients.nqsw_name if recipients else None,
            "team": recipients.team_name if recipients else None,
        },
    }


def add_event(
    session: Session,
    breach: Breach,
    *,
    action: str,
    on: date,
    from_status: str | None = None,
    actor_id: int | None = None,
    note: str | None = None,
    data: dict[str, Any] | None = None,
) -> BreachEvent:
    event = BreachEvent(
        breach_id=breach.id,  # type: ignore[arg-type]
        effective_on=on,
        action=action,
        from_status=from_status,
        to_status=breach.status,
        actor_id=actor_id,
        note=note,
        data=data,
    )
    session.add(event)
    return event


def start_clock(
    session: Session,
    breach: Breach,
    *,
    on: date,
    escalation: Escalation,
    recipients: Recipients | None,
    kind: str = "breach.opened",
    title: str | None = None,
) -> None:
    """A breach (re)opens: tell the team manager now, and set when it climbs.

    Severe rules are escalated at once, to both people together, even when overridden.
    Otherwise an overridden breach is told to the team manager and never climbs: the
    approver already holds the role the ladder would reach.
    """
    breach.escalation_due_on = add_working_days(on, escalation.after_working_days)
    told = first_told(session, recipients)
    severe = breach.severe
    if severe:
        told = [*told, *escalation_target(session, escalation, recipients)]
        breach.escalation_level = 1
        breach.escalated_at = now_utc()
        breach.escalated_on = on
    subject = _subject(kind, breach, recipients)
    notify.notify(
        session,
        recipient_ids=told,
        kind=kind,
        subject=subject,
        context=breach_context(breach, recipients, title=title),
        breach_id=breach.id,
        nqsw_id=breach.staff_id,
    )
    if kind == "breach.opened":
        tell_nqsw(session, breach, recipients, title=title)
    if severe and breach.escalation_level == 1:
        add_event(session, breach, action="escalated", on=on, from_status=breach.status,
                  data={"to": escalation.to, "recipients": told, "at_once": True})
        audit.record(session, action="breach.escalate", entity="breach", entity_id=breach.id,
                     nqsw_id=breach.staff_id, effective_on=on,
                     after={"escalation_level": 1, "escalated_on": on, "severe": True})


NQSW_OPENED = "breach.opened_for_nqsw"


def tell_nqsw(
    session: Session, breach: Breach, recipients: Recipients | None, *, title: str | None
) -> None:
    """The NQSW hears of a breach about them in their own inbox, worded for them: what
    promise was broken, that their manager has been told, and where to follow it."""
    what = title or breach.rule_id.replace("_", " ")
    notify.notify(
        session,
        recipient_ids=[breach.staff_id],
        kind=NQSW_OPENED,
        subject=f"A promise to you was broken: {what}",
        context=breach_context(breach, recipients, title=title),
        breach_id=breach.id,
        nqsw_id=breach.staff_id,
    )


def _subject(kind: str, breach: Breach, recipients: Recipients | None) -> str:
    who = recipients.nqsw_name if recipients else f"NQSW {breach.staff_id}"
    words = {
        "breach.opened": "Workload breach",
        "breach.escalated": "Escalated workload breach",
        "breach.reopened": "Workload breach reopened",
        "breach.resolved": "Workload breach resolved",
    }.get(kind, "Workload breach")
    return f"{words}: {who} ({breach.rule_id})"


def escalate_due(
    session: Session,
    breaches: Sequence[Breach],
    *,
    on: date,
    policies: PolicySet,
    recipients: dict[int, Recipients],
) -> list[Breach]:
    """Escalate every breach in `breaches` whose working-day deadline has passed by `on`."""
    escalated: list[Breach] = []
    for breach in breaches:
        if (
            breach.status not in ESCALATING_STATUSES
            or breach.escalation_level >= 1
            or breach.escalation_due_on is None
            or breach.escalation_due_on > on
        ):
            continue
        escalation = rule_escalation(policies, breach.policy_id, breach.rule_id)
        people = recipients.get(breach.staff_id)
        target = escalation_target(session, escalation, people)
        breach.escalation_level = 1
        breach.escalated_at = now_utc()
        breach.escalated_on = on
        breach.updated_at = now_utc()
        add_event(session, breach, action="escalated", on=on, from_status=breach.status,
                  data={"to": escalation.to, "recipients": target,
                        "due_on": breach.escalation_due_on.isoformat()})
        audit.record(session, action="breach.escalate", entity="breach", entity_id=breach.id,
                     nqsw_id=breach.staff_id, effective_on=on,
                     after={"escalation_level": 1, "escalated_on": on, "to": escalation.to})
        notify.notify(
            session,
            recipient_ids=target,
            kind="breach.escalated",
            subject=_subject("breach.escalated", breach, people),
            context=breach_context(
                breach, people, title=rule_title(policies, breach.policy_id, breach.rule_id)),
            breach_id=breach.id,
            nqsw_id=breach.staff_id,
        )
        escalated.append(breach)
    return escalated


def tell_resolved(
    session: Session, breach: Breach, recipients: Recipients | None, escalation: Escalation,
    title: str | None = None,
) -> None:
    """The people who were told of a breach are told it is over."""
    told = first_told(session, recipients)
    if breach.escalation_level >= 1:
        told = [*told, *escalation_target(session, escalation, recipients)]
    notify.notify(
        session,
        recipient_ids=told,
        kind="breach.resolved",
        subject=_subject("breach.resolved", breach, recipients),
        context=breach_context(breach, recipients, title=title),
        breach_id=breach.id,
        nqsw_id=breach.staff_id,
    )
