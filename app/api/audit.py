"""The audit trail, read only: no endpoint updates or deletes an event."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query, Request

from app.api.boundary import BoundaryRoute
from app.api.deps import PageDep
from app.auth import Principal, PrincipalDep
from app.db import SessionDep
from app.models.base import Role
from app.schemas.audit import AuditEventPublic
from app.schemas.common import Page, PathId
from app.schemas.staff import NotNul, id_query, text_query
from app.services import audit_query

router = APIRouter(route_class=BoundaryRoute, tags=["audit"])


@router.get("/audit")
def list_audit_events(
    request: Request,
    session: SessionDep,
    page: PageDep,
    principal: PrincipalDep,
    actor_id: Annotated[int | None, id_query("Who made the change.")] = None,
    action: Annotated[
        str | None, text_query("Action, or its prefix ('case.').", max_length=80), NotNul
    ] = None,
    entity: Annotated[str | None, text_query("What kind of record.", max_length=80), NotNul] = None,
    entity_id: Annotated[str | None, text_query("Which record.", max_length=80), NotNul] = None,
    nqsw_id: Annotated[int | None, id_query("Events about this NQSW.")] = None,
    from_date: Annotated[
        date | None, Query(alias="from", description="From this local day (included).")
    ] = None,
    to_date: Annotated[
        date | None, Query(alias="to", description="To this local day (included).")
    ] = None,
    recorded_from: Annotated[
        date | None, Query(description="Recorded on or after this local day.")
    ] = None,
    recorded_to: Annotated[
        date | None, Query(description="Recorded on or before this local day.")
    ] = None,
) -> Page[AuditEventPublic]:
    """Newest first. `from`/`to` select by the date a change takes effect
    (`effective_on`), `recorded_from`/`recorded_to` by when it was recorded.

    An admin sees the events of their remit only (accounts, sign-ins, tokens, staff
    records and the organisation's structure), not casework."""
    rows, count = audit_query.list_events(
        session=session, limit=page.limit, offset=page.offset,
        tz=request.app.state.settings.tz, actor_id=actor_id, action=action, entity=entity,
        entity_id=entity_id, nqsw_id=nqsw_id, from_date=from_date, to_date=to_date,
        recorded_from=recorded_from, recorded_to=recorded_to,
        action_prefixes=_remit(principal),
    )
    return Page(data=[AuditEventPublic.model_validate(r) for r in rows], count=count)


@router.get("/audit/{event_id}")
def get_audit_event(
    event_id: PathId, session: SessionDep, principal: PrincipalDep
) -> AuditEventPublic:
    event = audit_query.get_event(session=session, event_id=event_id,
                                  action_prefixes=_remit(principal))
    return AuditEventPublic.model_validate(event)


# What an admin administers: accounts and the organisation's records, not casework.
ADMIN_ACTIONS = ("account.", "auth.", "token.", "session.", "staff.", "service_area.", "team.")


def _remit(principal: Principal) -> tuple[str, ...] | None:
    """The action prefixes the caller may read; None for everything."""
    if principal.role == Role.admin.value and not principal.all_access:
        return ADMIN_ACTIONS
    return None
