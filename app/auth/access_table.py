"""THE access table: one rule for every `/api/v1` route, keyed by method and path template.

Adding a route means adding a line here (the key is exactly what `/openapi.json` shows,
e.g. `"GET /api/v1/cases/{case_id}"`) and a row in tests/api/test_access_matrix.py.
Until then the route is refused to everyone (the test suite's all-access principal
aside) and the matrix test fails. The vocabulary (`allow`, `SCOPE`, `path(...)`, ...)
is explained in app/auth/rules.py; docs/security.md has the table in words.

Roles in short: NQSW and social worker, their own records; advanced practitioner, their
co-worked cases and those NQSWs; team manager, their team; senior manager, the teams of
their service area (and approves overrides and exceptions); ASYE coordinator, reads
everything and manages programme settings and adjustments; admin, accounts and the
organisation's structure but no casework.
"""

from __future__ import annotations

from app.auth.rules import Grant, Rule, allow, body, path, public, signed_in

ALL, SCOPE, SELF = Grant.ALL, Grant.SCOPE, Grant.SELF

# Reading casework (people's records, cases, breaches): everyone within their reach,
# the coordinator everywhere. Admins have no casework.
READ_CASEWORK = {
    "nqsw": SCOPE,
    "social_worker": SCOPE,
    "advanced_practitioner": SCOPE,
    "team_manager": SCOPE,
    "senior_manager": SCOPE,
    "asye_coordinator": ALL,
}
# Managing a team's work: allocating, closing cases, acknowledging breaches.
MANAGE = {"team_manager": SCOPE, "senior_manager": SCOPE}
# Programme settings: enrolments and individual adjustments.
PROGRAMME = {"asye_coordinator": ALL}
ADMIN = {"admin": ALL}

STAFF = path("staff_id", "staff")
CASE = path("case_id", "case")
ENTRY = path("entry_id", "protected_time")
SIGN_OFF = path("sign_off_id", "sign_off")
# People a change names around an NQSW: someone in a service area the caller works in or
# reaches (a team manager names their area's senior manager, the team's AP, an assessor).
ASSESSOR = body("assessor_id", "colleague", optional=True)
AP = body("advanced_practitioner_id", "colleague", optional=True)


ACCESS: dict[str, Rule] = {
    # ---- signing in, the caller's own account and tokens (app/api/auth.py) ----------
    "POST /api/v1/auth/token": public("OAuth2 password flow; throttled"),
    "POST /api/v1/auth/revoke": signed_in("revokes the token presented"),
    "GET /api/v1/me": signed_in(),
    "GET /api/v1/me/tokens": signed_in("the caller's own personal tokens"),
    "POST /api/v1/me/tokens": signed_in(),
    "DELETE /api/v1/me/tokens/{token_id}": signed_in("someone else's token is 404"),
    "GET /api/v1/accounts": allow(lists=True, **ADMIN),
    "POST /api/v1/accounts": allow(**ADMIN),
    "GET /api/v1/accounts/{account_id}": allow(**ADMIN),
    "PATCH /api/v1/accounts/{account_id}": allow(**ADMIN),
    # ---- organisation structure: not personal, readable by all ----------------------
    "GET /api/v1/service-areas": signed_in(),
    "POST /api/v1/service-areas": allow(**ADMIN),
    "GET /api/v1/service-areas/{area_id}": signed_in(),
    "PATCH /api/v1/service-areas/{area_id}": allow(**ADMIN),
    "POST /api/v1/service-areas/{area_id}/close": allow(**ADMIN),
    "GET /api/v1/teams": signed_in(),
    "POST /api/v1/teams": allow(**ADMIN),
    "GET /api/v1/teams/{team_id}": signed_in(),
    "PATCH /api/v1/teams/{team_id}": allow(**ADMIN),
    "POST /api/v1/teams/{team_id}/close": allow(**ADMIN),
    "GET /api/v1/policies": signed_in("the promises every NQSW may read"),
    # ---- staff records: admins keep them; people see those within reach -------------
    "POST /api/v1/staff": allow(**ADMIN),
    "GET /api/v1/staff": allow(lists=True, **READ_CASEWORK, **ADMIN),
    "GET /api/v1/staff/{staff_id}": allow(STAFF, **READ_CASEWORK, **ADMIN),
    "PATCH /api/v1/staff/{staff_id}": allow(STAFF, note="includes role changes", **ADMIN),
    "POST /api/v1/staff/{staff_id}/leave": allow(STAFF, **ADMIN),
    # ---- NQSWs and enrolments --------------------------------------------------------
    "POST /api/v1/nqsws": allow(ASSESSOR, AP, **PROGRAMME, **ADMIN),
    "GET /api/v1/nqsws": allow(lists=True, **READ_CASEWORK),
    "GET /api/v1/nqsws/{staff_id}": allow(STAFF, **READ_CASEWORK),
    "PATCH /api/v1/nqsws/{staff_id}": allow(STAFF, ASSESSOR, AP, **PROGRAMME, **MANAGE),
    "GET /api/v1/nqsws/{staff_id}/enrolments": allow(STAFF, **READ_CASEWORK),
    "POST /api/v1/enrolments": allow(body("staff_id", "staff"), ASSESSOR, AP, **PROGRAMME),
    "GET /api/v1/enrolments/{enrolment_id}": allow(
        path("enrolment_id", "enrolment"), **READ_CASEWORK
    ),
    "GET /api/v1/enrolments": allow(lists=True, **READ_CASEWORK),
    # Correcting a programme, its start or its people is a programme setting.
    "PATCH /api/v1/enrolments/{enrolment_id}": allow(
        path("enrolment_id", "enrolment"), ASSESSOR, AP, **PROGRAMME
    ),
    "GET /api/v1/nqsws/{staff_id}/workload": allow(STAFF, **READ_CASEWORK),
    # ---- individual adjustments: the coordinator, or the area's senior manager -------
    "POST /api/v1/nqsws/{staff_id}/adjustments": allow(
        STAFF, **PROGRAMME, senior_manager=SCOPE
    ),
    "GET /api/v1/nqsws/{staff_id}/adjustments": allow(STAFF, **READ_CASEWORK),
    "GET /api/v1/nqsws/{staff_id}/adjustments/{adjustment_id}": allow(
        STAFF, path("adjustment_id", "adjustment"), **READ_CASEWORK
    ),
    "POST /api/v1/nqsws/{staff_id}/adjustments/{adjustment_id}/end": allow(
        STAFF, path("adjustment_id", "adjustment"), **PROGRAMME, senior_manager=SCOPE
    ),
    # Proposals: the NQSW's managers propose; the role the policy names decides.
    "POST /api/v1/nqsws/{staff_id}/adjustments/proposals": allow(STAFF, **MANAGE),
    "POST /api/v1/nqsws/{staff_id}/adjustments/{adjustment_id}/approve": allow(
        STAFF, path("adjustment_id", "adjustment"), **MANAGE, **PROGRAMME,
        note="the policy names who may approve (by default the coordinator); never the "
             "proposer",
    ),
    "POST /api/v1/nqsws/{staff_id}/adjustments/{adjustment_id}/refuse": allow(
        STAFF, path("adjustment_id", "adjustment"), **MANAGE, **PROGRAMME,
        note="as approving",
    ),
    "POST /api/v1/nqsws/{staff_id}/adjustments/{adjustment_id}/withdraw": allow(
        STAFF, path("adjustment_id", "adjustment"), **MANAGE,
        note="only the proposer (checked by the service)",
    ),
    # ---- cases -----------------------------------------------------------------------
    "POST /api/v1/cases": allow(body("team_id", "team", optional=True), **MANAGE),
    "GET /api/v1/cases": allow(lists=True, **READ_CASEWORK),
    "GET /api/v1/cases/{case_id}": allow(CASE, **READ_CASEWORK),
    "PATCH /api/v1/cases/{case_id}": allow(
        CASE, body("team_id", "team", optional=True), **MANAGE
    ),
    "POST /api/v1/cases/{case_id}/close": allow(CASE, **MANAGE),
    "GET /api/v1/cases/{case_id}/candidates": allow(
        CASE, **MANAGE, asye_coordinator=ALL, note="who could take it; writes nothing"
    ),
    # ---- allocations: managers, for people and cases within their reach -------------
    "POST /api/v1/allocations": allow(
        body("case_id", "case"), body("worker_id", "staff"), **MANAGE
    ),
    "POST /api/v1/allocations/check": allow(
        body("case_id", "case"), body("worker_id", "staff"), **MANAGE,
        advanced_practitioner=SCOPE, asye_coordinator=ALL, note="what-if; writes nothing",
    ),
    "GET /api/v1/allocations": allow(lists=True, **READ_CASEWORK),
    "GET /api/v1/allocations/{allocation_id}": allow(
        path("allocation_id", "allocation"), **READ_CASEWORK
    ),
    "PATCH /api/v1/allocations/{allocation_id}": allow(
        path("allocation_id", "allocation"), body("worker_id", "staff", optional=True),
        **MANAGE,
    ),
    "POST /api/v1/allocations/{allocation_id}/end": allow(
        path("allocation_id", "allocation"), **MANAGE
    ),
    # ---- override requests: a manager blocked by a firm limit asks; whoever the policy
    # lets override it decides (app/api/override_requests.py). A request's reach is its
    # NQSW's and case's, checked by the service (404 outside it), as is who decides.
    "POST /api/v1/override-requests": allow(
        body("case_id", "case"), body("worker_id", "staff"), **MANAGE
    ),
    "GET /api/v1/override-requests": allow(lists=True, **MANAGE, asye_coordinator=ALL),
    "GET /api/v1/override-requests/{request_id}": allow(
        **MANAGE, asye_coordinator=ALL, note="404 outside the caller's reach (the service)"
    ),
    "POST /api/v1/override-requests/{request_id}/approve": allow(
        **MANAGE, asye_coordinator=ALL,
        note="only a role the policy lets override the limits, never the requester",
    ),
    "POST /api/v1/override-requests/{request_id}/refuse": allow(
        **MANAGE, asye_coordinator=ALL,
        note="only a role the policy lets override the limits, never the requester",
    ),
    "POST /api/v1/override-requests/{request_id}/withdraw": allow(
        **MANAGE, note="only the requester (the service)"
    ),
    # ---- breaches ----------------------------------------------------------------------
    "GET /api/v1/breaches": allow(lists=True, **READ_CASEWORK),
    "GET /api/v1/breaches.csv": allow(lists=True, **READ_CASEWORK),
    "GET /api/v1/breaches/summary": allow(lists=True, **READ_CASEWORK),
    "GET /api/v1/breaches/trend": allow(lists=True, **READ_CASEWORK),
    "POST /api/v1/breaches/sweep": allow(**PROGRAMME, **ADMIN, note="re-runs the daily sweep"),
    "GET /api/v1/breaches/{breach_id}": allow(path("breach_id", "breach"), **READ_CASEWORK),
    "POST /api/v1/breaches/{breach_id}/acknowledge": allow(
        path("breach_id", "breach"), **MANAGE
    ),
    "POST /api/v1/breaches/{breach_id}/exception": allow(
        path("breach_id", "breach"), senior_manager=SCOPE, asye_coordinator=ALL,
        note="the policy further limits who may approve",
    ),
    # ---- exports for reporting upwards (app/api/exports.py): the people who answer for
    # breaches, each within reach (a team manager their team, a senior manager their area)
    **{f"GET /api/v1/exports/{report}.{fmt}": allow(
        lists=True, team_manager=SCOPE, senior_manager=SCOPE, asye_coordinator=ALL,
        note="rows filtered to the caller's reach",
    ) for report in ("breaches", "workload", "compliance") for fmt in ("csv", "xlsx")},
    # ---- imports of a case-management export (app/api/imports.py): the coordinator for
    # the organisation, a team manager for their own team (the handler keeps them to it)
    **{key: allow(lists=True, team_manager=SCOPE, asye_coordinator=ALL,
                  note="a team manager: their own team's rows and runs only")
       for key in ("POST /api/v1/imports", "GET /api/v1/imports",
                   "GET /api/v1/imports/{run_id}", "POST /api/v1/imports/{run_id}/apply")},
    # ---- protected development time: the NQSW books their own; managers direct -------
    "GET /api/v1/nqsws/{staff_id}/diary": allow(STAFF, **READ_CASEWORK),
    "GET /api/v1/nqsws/{staff_id}/diary/summary": allow(STAFF, **READ_CASEWORK),
    "GET /api/v1/nqsws/{staff_id}/diary/entitlement": allow(STAFF, **READ_CASEWORK),
    "POST /api/v1/nqsws/{staff_id}/diary": allow(STAFF, nqsw=SELF, team_manager=SCOPE),
    "GET /api/v1/nqsws/{staff_id}/diary/{entry_id}": allow(STAFF, ENTRY, **READ_CASEWORK),
    "POST /api/v1/nqsws/{staff_id}/diary/{entry_id}/move": allow(
        STAFF, ENTRY, nqsw=SELF, team_manager=SCOPE
    ),
    "POST /api/v1/nqsws/{staff_id}/diary/{entry_id}/taken": allow(
        STAFF, ENTRY, nqsw=SELF, team_manager=SCOPE
    ),
    "POST /api/v1/nqsws/{staff_id}/diary/{entry_id}/cancel": allow(
        STAFF, ENTRY, team_manager=SCOPE, note="only a team manager cancels, with a reason"
    ),
    # ---- supervision and reviews ---------------------------------------------------------
    "GET /api/v1/nqsws/{staff_id}/supervision": allow(STAFF, **READ_CASEWORK),
    "POST /api/v1/nqsws/{staff_id}/supervision": allow(
        STAFF, body("supervisor_id", "colleague", optional=True), team_manager=SCOPE,
        advanced_practitioner=SCOPE,
    ),
    "POST /api/v1/nqsws/{staff_id}/supervision/{session_id}/cancel": allow(
        STAFF, path("session_id", "supervision"), team_manager=SCOPE,
        advanced_practitioner=SCOPE,
    ),
    "GET /api/v1/nqsws/{staff_id}/reviews": allow(STAFF, **READ_CASEWORK),
    "POST /api/v1/nqsws/{staff_id}/reviews": allow(STAFF, team_manager=SCOPE, **PROGRAMME),
    # ---- programme events: deferral, return, withdrawal, completion, sign-off -----------
    "GET /api/v1/nqsws/{staff_id}/programme": allow(STAFF, **READ_CASEWORK),
    "POST /api/v1/nqsws/{staff_id}/pause": allow(STAFF, team_manager=SCOPE, **PROGRAMME),
    "POST /api/v1/nqsws/{staff_id}/resume": allow(STAFF, team_manager=SCOPE, **PROGRAMME),
    "POST /api/v1/nqsws/{staff_id}/withdraw": allow(STAFF, team_manager=SCOPE, **PROGRAMME),
    "POST /api/v1/nqsws/{staff_id}/complete": allow(STAFF, team_manager=SCOPE, **PROGRAMME),
    "POST /api/v1/nqsws/{staff_id}/sign-offs": allow(
        STAFF, body("team_manager_id", "colleague", optional=True),
        body("senior_manager_id", "colleague", optional=True), **MANAGE,
        note="a joint decision: the caller must be one of the two managers named (checked "
             "by the service, with both managers' roles and places)",
    ),
    "POST /api/v1/nqsws/{staff_id}/sign-offs/{sign_off_id}/approve": allow(
        STAFF, SIGN_OFF, **MANAGE, note="only the other named manager (checked by the service)"
    ),
    "POST /api/v1/nqsws/{staff_id}/sign-offs/{sign_off_id}/revoke": allow(
        STAFF, SIGN_OFF, **MANAGE, note="either manager within reach; the rules apply again"
    ),
    # ---- the NQSW's calendar feed (the feed itself is outside /api, behind its secret) --
    "POST /api/v1/nqsws/{staff_id}/calendar-token": allow(STAFF, nqsw=SELF),
    # ---- the audit trail: coordinators, and admins for account events ---------------
    "GET /api/v1/audit": allow(lists=True, asye_coordinator=ALL, admin=ALL),
    "GET /api/v1/audit/{event_id}": allow(asye_coordinator=ALL, admin=ALL),
    # ---- the caller's own inbox (app/api/notifications.py) -------------------------
    "GET /api/v1/me/notifications": signed_in(),
    "POST /api/v1/me/notifications/read-all": signed_in(),
    "POST /api/v1/me/notifications/{notification_id}/read": signed_in(
        "someone else's notification is 404"
    ),
    "GET /api/v1/me/notification-preferences": signed_in(),
    "PUT /api/v1/me/notification-preferences": signed_in(),
}

# Body fields that say who acted. When present they must name the caller: nobody may
# record an override, an approval or an acknowledgement in someone else's name.
ACTOR_FIELDS: tuple[str, ...] = (
    "actor_id",
    "allocated_by_id",
    "approver_id",
    "approved_by_id",
    "acknowledged_by_id",
    "cancelled_by_id",
    "recorded_by_id",
    "booked_by_id",
)
