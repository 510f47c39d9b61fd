"""THE page access table: one rule for every HTML page and form, keyed by method and path.

The pages (app/web) are guarded exactly like the JSON API: `authorize_page`
(app/auth/page_guard.py) is a dependency of the pages' router itself, looks the route up
here, and refuses a route that has no line. The vocabulary is the API's (app/auth/rules.py):
per role a grant, `ALL`, `SCOPE` or `SELF`, and targets saying which record the request
is about. Scope is decided by the same code as for the API (`Principal.can_see`, the
resolvers in app/auth/subjects.py), so a page and the API can never disagree on who
reaches which NQSW.

A page that does what an API route does takes that route's rule (`as_api`), so a button
is offered, and a form accepted, for exactly the people the API would accept it from.

Answers: a signed-out visitor is sent to `/login?next=...`; the wrong role gets the 403
page; a record named in the path that is out of reach gets the same 404 page as a record
that does not exist. A record named in the query or the form (an NQSW to filter on, a
worker to allocate to) that is out of reach is a 403, as in the API.

Adding a page means adding a line here and a row in tests/api/test_page_access.py.
"""

from __future__ import annotations

from dataclasses import replace

from app.auth.access_table import ACCESS, MANAGE, READ_CASEWORK
from app.auth.rules import (
    ALL_ROLES,
    Grant,
    Rule,
    Target,
    allow,
    body,
    path,
    public,
    query,
    signed_in,
)

ALL, SCOPE, SELF = Grant.ALL, Grant.SCOPE, Grant.SELF

NOTIFICATION = path("notification_id", "notification")
ENTRY = path("entry_id", "protected_time")
# The breach dashboard: the people who answer for breaches (as the navigation offers it).
DASHBOARD = {"team_manager": SCOPE, "senior_manager": SCOPE, "asye_coordinator": ALL}
# A person's own records only, whatever their role.
OWN = dict.fromkeys(ALL_ROLES, SELF)


def as_api(key: str, *extra: Target) -> Rule:
    """The API route's own rule (grants and targets), plus any record the page also names."""
    rule = ACCESS[key]
    return replace(rule, targets=rule.targets + extra, note=f"as {key}")


def as_form(key: str) -> Rule:
    """The API route's rule for a page form: the records the form names are checked the
    same way, but each is optional, as the form itself says when one was not chosen."""
    rule = as_api(key)
    return replace(rule, targets=tuple(
        replace(t, optional=True) if t.source == "body" else t for t in rule.targets))


PAGE_ACCESS: dict[str, Rule] = {
    # ---- signing in and out (app/web/login.py); every form still needs its CSRF token --
    "GET /login": public("the sign-in form"),
    "POST /login": public("throttled per account and per address"),
    "POST /logout": public("ends the session the cookie names, if any"),
    # ---- the second factor (app/web/second_factor.py): behind the pending ticket a correct
    # password gives, or the signed-in person's own; anyone else is sent to sign in --------
    "GET /login/code": public("needs the pending ticket of a correct password"),
    "POST /login/code": public("needs the pending ticket; throttled like passwords"),
    "GET /second-factor": public("the signed-in person's own, or the pending ticket's"),
    "POST /second-factor": public("the signed-in person's own, or the pending ticket's"),
    # ---- choosing a password with a one-time link (app/web/set_password.py) ------------
    "GET /set-password/{token}": public("behind the link's own secret; opening it changes "
                                        "nothing"),
    "POST /set-password/{token}": public("behind the link's own secret, which it uses up"),
    # ---- everyone signed in (app/web/home.py, notifications.py) ------------------------
    "GET /": signed_in("each role's start page, filtered to their reach"),
    "GET /promise": signed_in("the promises every NQSW may read"),
    "GET /notifications": signed_in("the caller's own inbox"),
    "POST /notifications/read-all": signed_in("the caller's own inbox"),
    "POST /notifications/{notification_id}/read": allow(
        NOTIFICATION, **OWN, note="someone else's notification is 404"
    ),
    # ---- NQSWs (app/web/home.py, nqsw.py) ----------------------------------------------
    "GET /nqsws": allow(
        lists=True, **READ_CASEWORK,
        note="filtered to the caller's reach; an NQSW is sent to their own page",
    ),
    "GET /nqsws/{staff_id}": as_api("GET /api/v1/nqsws/{staff_id}"),
    # ---- enrolling a member of staff (app/web/enrolment.py) ---------------------------
    "GET /enrolments/new": replace(
        ACCESS["POST /api/v1/enrolments"], targets=(),
        note="the empty form of POST /api/v1/enrolments, for whoever may send it",
    ),
    "POST /enrolments/new": as_form("POST /api/v1/enrolments"),
    # ---- allocating a case (app/web/allocate.py) ---------------------------------------
    # The case is named by its reference, so the handler checks it with
    # `page_guard.within_reach` (an out-of-reach case reads as unknown).
    "GET /allocate": allow(query("worker_id", "staff"), **MANAGE),
    "POST /allocate/check": allow(
        body("worker_id", "staff", optional=True), **MANAGE, note="the what-if; writes nothing"
    ),
    "POST /allocate": allow(body("worker_id", "staff", optional=True), **MANAGE),
    "GET /cases/{case_id}/candidates": as_api("GET /api/v1/cases/{case_id}/candidates"),
    # ---- override requests, and confirming an override (app/web/override_requests.py) --
    # A request's reach is its NQSW's and case's, checked by the service (404 outside it).
    "POST /allocate/override": allow(
        body("worker_id", "staff", optional=True), **MANAGE,
        note="the confirmation before an override; the policy says who may override",
    ),
    "GET /override-requests/new": allow(
        query("staff_id", "staff"), query("case_id", "case"), **MANAGE,
        note="the form of POST /api/v1/override-requests",
    ),
    "POST /override-requests": allow(
        body("case_id", "case", optional=True), body("staff_id", "staff", optional=True),
        **MANAGE, note="as POST /api/v1/override-requests (the form names the worker staff_id)",
    ),
    "GET /override-requests": allow(
        lists=True, **MANAGE, asye_coordinator=ALL,
        note="the caller's own requests and those within their reach",
    ),
    "GET /override-requests/{request_id}": as_api("GET /api/v1/override-requests/{request_id}"),
    "POST /override-requests/{request_id}/approve": as_api(
        "POST /api/v1/override-requests/{request_id}/approve"
    ),
    "POST /override-requests/{request_id}/refuse": as_api(
        "POST /api/v1/override-requests/{request_id}/refuse"
    ),
    "POST /override-requests/{request_id}/withdraw": as_api(
        "POST /api/v1/override-requests/{request_id}/withdraw"
    ),
    # ---- cases and their allocations (app/web/cases.py): managers act on the cases of
    # the teams they answer for (the API's rules); the ASYE coordinator reads them all.
    "GET /cases": allow(lists=True, team_manager=SCOPE, senior_manager=SCOPE,
                        asye_coordinator=ALL, note="filtered to the caller's reach"),
    "GET /cases/new": replace(ACCESS["POST /api/v1/cases"], targets=(),
                              note="the empty form of POST /api/v1/cases"),
    "POST /cases/new": as_form("POST /api/v1/cases"),
    "GET /cases/{case_id}": allow(path("case_id", "case"), team_manager=SCOPE,
                                  senior_manager=SCOPE, asye_coordinator=ALL),
    "GET /cases/{case_id}/close": as_api("POST /api/v1/cases/{case_id}/close"),
    "POST /cases/{case_id}/close": as_api("POST /api/v1/cases/{case_id}/close"),
    "GET /cases/{case_id}/change": as_api("PATCH /api/v1/cases/{case_id}"),
    "POST /cases/{case_id}/change": as_api("PATCH /api/v1/cases/{case_id}"),
    # The allocation in the path must be the case's (the handler says 404 otherwise).
    "GET /cases/{case_id}/allocations/{allocation_id}/end": as_api(
        "POST /api/v1/allocations/{allocation_id}/end", path("case_id", "case")),
    "POST /cases/{case_id}/allocations/{allocation_id}/end": as_api(
        "POST /api/v1/allocations/{allocation_id}/end", path("case_id", "case")),
    "GET /cases/{case_id}/allocations/{allocation_id}/reassign": as_api(
        "PATCH /api/v1/allocations/{allocation_id}", path("case_id", "case")),
    "POST /cases/{case_id}/allocations/{allocation_id}/reassign/check": as_api(
        "PATCH /api/v1/allocations/{allocation_id}", path("case_id", "case")),
    "POST /cases/{case_id}/allocations/{allocation_id}/reassign": as_api(
        "PATCH /api/v1/allocations/{allocation_id}", path("case_id", "case")),
    # ---- breaches (app/web/breaches.py) ------------------------------------------------
    "GET /breaches": allow(query("nqsw_id", "staff"), lists=True, **DASHBOARD),
    "GET /breaches/export.csv": allow(query("nqsw_id", "staff"), lists=True, **DASHBOARD),
    "GET /breaches/{breach_id}": as_api("GET /api/v1/breaches/{breach_id}"),
    "POST /breaches/{breach_id}/acknowledge": as_api(
        "POST /api/v1/breaches/{breach_id}/acknowledge"
    ),
    "POST /breaches/{breach_id}/exception": as_api("POST /api/v1/breaches/{breach_id}/exception"),
    # ---- exports (app/web/exports.py): the page, and each report's two downloads -------
    "GET /exports": allow(lists=True, **DASHBOARD),
    **{f"GET /exports/{report}.{fmt}": allow(
        *((query("nqsw_id", "staff"),) if report == "breaches" else ()), lists=True,
        **DASHBOARD,
    ) for report in ("breaches", "workload", "compliance") for fmt in ("csv", "xlsx")},
    # ---- imports (app/web/imports.py): upload, preview, apply, as the API's routes ------
    "GET /imports": as_api("GET /api/v1/imports"),
    "POST /imports": as_api("POST /api/v1/imports"),
    "GET /imports/{run_id}": as_api("GET /api/v1/imports/{run_id}"),
    "POST /imports/{run_id}/apply": as_api("POST /api/v1/imports/{run_id}/apply"),
    "GET /nqsws/{staff_id}/breaches": allow(
        path("staff_id", "staff"), nqsw=SELF,
        note="the NQSW's own breaches only; managers have the dashboard",
    ),
    # ---- protected development time (app/web/diary.py) --------------------------------
    "GET /nqsws/{staff_id}/diary": as_api("GET /api/v1/nqsws/{staff_id}/diary"),
    "POST /nqsws/{staff_id}/diary": as_api("POST /api/v1/nqsws/{staff_id}/diary"),
    "GET /nqsws/{staff_id}/diary/{entry_id}/move": as_api(
        "POST /api/v1/nqsws/{staff_id}/diary/{entry_id}/move"
    ),
    "POST /nqsws/{staff_id}/diary/{entry_id}/move": as_api(
        "POST /api/v1/nqsws/{staff_id}/diary/{entry_id}/move"
    ),
    "GET /nqsws/{staff_id}/diary/{entry_id}/rebook": as_api(
        "POST /api/v1/nqsws/{staff_id}/diary", ENTRY
    ),
    "POST /nqsws/{staff_id}/diary/{entry_id}/rebook": as_api(
        "POST /api/v1/nqsws/{staff_id}/diary", ENTRY
    ),
    "POST /nqsws/{staff_id}/diary/{entry_id}/taken": as_api(
        "POST /api/v1/nqsws/{staff_id}/diary/{entry_id}/taken"
    ),
    "GET /nqsws/{staff_id}/diary/{entry_id}/cancel": as_api(
        "POST /api/v1/nqsws/{staff_id}/diary/{entry_id}/cancel"
    ),
    "POST /nqsws/{staff_id}/diary/{entry_id}/cancel": as_api(
        "POST /api/v1/nqsws/{staff_id}/diary/{entry_id}/cancel"
    ),
    # The NQSW's calendar feed: the confirmation before a new address replaces the old.
    "GET /nqsws/{staff_id}/diary/calendar": as_api(
        "POST /api/v1/nqsws/{staff_id}/calendar-token"
    ),
    "POST /nqsws/{staff_id}/diary/calendar": as_api(
        "POST /api/v1/nqsws/{staff_id}/calendar-token"
    ),
    # ---- supervision and reviews (app/web/supervision.py) -----------------------------
    "GET /nqsws/{staff_id}/supervision": as_api("GET /api/v1/nqsws/{staff_id}/supervision"),
    "POST /nqsws/{staff_id}/supervision": as_api("POST /api/v1/nqsws/{staff_id}/supervision"),
    "POST /nqsws/{staff_id}/reviews": as_api("POST /api/v1/nqsws/{staff_id}/reviews"),
    "GET /nqsws/{staff_id}/supervision/{session_id}/cancel": as_api(
        "POST /api/v1/nqsws/{staff_id}/supervision/{session_id}/cancel"
    ),
    "POST /nqsws/{staff_id}/supervision/{session_id}/cancel": as_api(
        "POST /api/v1/nqsws/{staff_id}/supervision/{session_id}/cancel"
    ),
    # ---- individual adjustments (app/web/adjustments.py) ------------------------------
    "GET /nqsws/{staff_id}/adjustments": as_api("GET /api/v1/nqsws/{staff_id}/adjustments"),
    "GET /nqsws/{staff_id}/adjustments/propose": as_api(
        "POST /api/v1/nqsws/{staff_id}/adjustments/proposals"
    ),
    "POST /nqsws/{staff_id}/adjustments/propose": as_api(
        "POST /api/v1/nqsws/{staff_id}/adjustments/proposals"
    ),
    "GET /nqsws/{staff_id}/adjustments/new": as_api("POST /api/v1/nqsws/{staff_id}/adjustments"),
    "POST /nqsws/{staff_id}/adjustments/new": as_api(
        "POST /api/v1/nqsws/{staff_id}/adjustments"
    ),
    "GET /nqsws/{staff_id}/adjustments/{adjustment_id}": as_api(
        "GET /api/v1/nqsws/{staff_id}/adjustments/{adjustment_id}"
    ),
    **{f"POST /nqsws/{{staff_id}}/adjustments/{{adjustment_id}}/{action}": as_api(
        f"POST /api/v1/nqsws/{{staff_id}}/adjustments/{{adjustment_id}}/{action}"
    ) for action in ("approve", "refuse", "withdraw", "end")},
    # ---- pauses and sign-off (app/web/programme.py) ----------------------------------
    "GET /nqsws/{staff_id}/programme": as_api("GET /api/v1/nqsws/{staff_id}/programme"),
    "POST /nqsws/{staff_id}/programme/pause": as_api("POST /api/v1/nqsws/{staff_id}/pause"),
    "POST /nqsws/{staff_id}/programme/resume": as_api("POST /api/v1/nqsws/{staff_id}/resume"),
    "POST /nqsws/{staff_id}/programme/withdraw": as_api(
        "POST /api/v1/nqsws/{staff_id}/withdraw"
    ),
    "POST /nqsws/{staff_id}/programme/complete": as_api(
        "POST /api/v1/nqsws/{staff_id}/complete"
    ),
    "POST /nqsws/{staff_id}/programme/sign-off": as_api(
        "POST /api/v1/nqsws/{staff_id}/sign-offs"
    ),
    "POST /nqsws/{staff_id}/programme/sign-off/{sign_off_id}/approve": as_api(
        "POST /api/v1/nqsws/{staff_id}/sign-offs/{sign_off_id}/approve"
    ),
    "POST /nqsws/{staff_id}/programme/sign-off/{sign_off_id}/revoke": as_api(
        "POST /api/v1/nqsws/{staff_id}/sign-offs/{sign_off_id}/revoke"
    ),
}

# Routes outside both the API and the pages, each with the reason it needs neither table.
# Anything else the application serves must be in ACCESS or PAGE_ACCESS (the page access
# test fails otherwise), so a route mounted beside the routers cannot slip through.
OUTSIDE: dict[str, str] = {
    "GET /openapi.json": "the API's description: names no person or record",
    "GET /docs": "Swagger UI, from /static; it calls the API with a token",
    "GET /docs/oauth2-redirect": "part of Swagger UI's sign-in",
    "GET /healthz": "liveness: says only whether the database answers",
    "GET /calendar/{token}.ics": "an NQSW's calendar feed, behind its own secret "
                                 "(rotated with POST /api/v1/nqsws/{staff_id}/calendar-token)",
    "MOUNT /static": "scripts, styles, fonts and images: no personal data",
}
