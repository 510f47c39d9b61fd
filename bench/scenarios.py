"""The scenarios: what each user does, against which records, signed in as whom.

Requests are prepared from the loaded database before the server is measured, so the
driver only replays them: what-if checks of an NQSW against an open case of their
team (as that team's manager, the person who allocates), allocations written with a
senior manager's override (every write goes through the policy check and breach
reconciliation, and none is refused), an NQSW's workload, a team's NQSW list, the
coordinator's breach dashboard, filtered views and CSV export, and the two pages people
open in a browser: the coordinator's breach dashboard (`GET /breaches`) and a team
manager's start page (`GET /`, their team), each with a page session signed in through
the sign-in form (`page_session`).
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import Engine, select
from sqlmodel import Session, SQLModel

import app.models  # noqa: F401  (tables registered)

T = SQLModel.metadata.tables
GATED = ("child_protection_plan", "care_proceedings", "court_work")


@dataclass(frozen=True)
class Scenario:
    key: str
    title: str
    target: str | None = None  # which target of issue 7 applies ("check", "dashboard")
    writes: bool = False


SCENARIOS: tuple[Scenario, ...] = (
    Scenario("healthz", "GET /healthz (baseline)"),
    Scenario("check", "What-if allocation check (POST /allocations/check)", target="check"),
    Scenario("workload", "One NQSW's workload (GET /nqsws/{id}/workload)"),
    Scenario("team", "Team view (GET /nqsws?team_id=)"),
    Scenario("dashboard", "Breach dashboard, default (GET /breaches)", target="dashboard"),
    Scenario("dashboard_filtered", "Breach dashboard, filtered (team, severity, rule)",
             target="dashboard"),
    Scenario("summary", "Breach summary (GET /breaches/summary)", target="dashboard"),
    Scenario("csv", "CSV export (GET /breaches.csv)"),
    *(Scenario(f"export_{report}_{fmt}", f"{title} export, {fmt.upper()} "
                                         f"(GET /exports/{report}.{fmt}, coordinator)")
      for report, title in (("breaches", "Breach register"), ("workload", "Workload snapshot"))
      for fmt in ("csv", "xlsx")),
    Scenario("page_dashboard", "Breach dashboard page (GET /breaches, HTML, coordinator)",
             target="dashboard"),
    Scenario("page_team", "Team page (GET /, HTML, team manager)"),
    Scenario("candidates", "Who could take this case (GET /cases/{id}/candidates, "
                           "team manager)"),
    Scenario("page_candidates", "Who could take this case page (GET /cases/{id}/candidates, "
                                "HTML, team manager)"),
    Scenario("write", "Allocation write with reconciliation (POST /allocations)",
             writes=True),
)


@dataclass
class Organisation:
    """The people and records the scenarios use, read once from the database."""

    as_of: date
    coordinator_id: int | None
    nqsws: list[tuple[int, int, int]]  # (staff id, team id, area id), active today
    team_managers: dict[int, int]
    senior_managers: dict[int, int]
    candidates: dict[int, list[int]] = field(default_factory=dict)  # NQSW -> open cases


def read_organisation(engine: Engine, as_of: date, *, per_nqsw: int = 40,
                      nqsw_limit: int = 80) -> Organisation:
    staff, team, area, enrolment = T["staff"], T["team"], T["service_area"], T["enrolment"]
    case, allocation = T["case"], T["allocation"]
    with engine.connect() as conn:
        coordinator = conn.execute(
            select(staff.c.id).where(staff.c.role == "asye_coordinator").order_by(staff.c.id)
        ).scalar()
        rows = conn.execute(
            select(staff.c.id, staff.c.team_id, team.c.service_area_id)
            .join(enrolment, enrolment.c.staff_id == staff.c.id)
            .join(team, team.c.id == staff.c.team_id)
            .where(enrolment.c.status == "active", enrolment.c.start_date <= as_of)
            .order_by(staff.c.id)
        ).all()
        managers = dict(conn.execute(select(team.c.id, team.c.manager_id)).all())
        seniors = dict(conn.execute(select(area.c.id, area.c.senior_manager_id)).all())
        # Spread the chosen NQSWs over the organisation rather than its first teams.
        step = max(1, len(rows) // nqsw_limit)
        chosen = [tuple(r) for r in rows[::step][:nqsw_limit]]
        org = Organisation(as_of, coordinator, chosen, managers, seniors)  # type: ignore[arg-type]
        for staff_id, team_id, _ in chosen:
            held_by_them = select(allocation.c.case_id).where(
                allocation.c.worker_id == staff_id
            )
            org.candidates[staff_id] = list(conn.execute(
                select(case.c.id)
                .where(case.c.team_id == team_id, case.c.closed_on.is_(None),
                       case.c.category.not_in(GATED), case.c.complexity <= 3,
                       case.c.id.not_in(held_by_them), case.c.opened_on <= as_of)
                .order_by(case.c.id).limit(per_nqsw)
            ).scalars())
    return org


def mint_tokens(engine: Engine, org: Organisation) -> dict[str, str]:
    """Bearer tokens for the people the scenarios act as, when the service has sign-in.

    Issued directly (the same tokens the password flow issues) so that a benchmark run
    does not depend on knowing anyone's password; `bench.run --login EMAIL:PASSWORD`
    signs the coordinator in through the password flow instead (`login` below).
    """
    try:
        from app.auth.testing import token_for_staff
    except ImportError:
        return {}
    wanted: dict[str, int] = {}
    if org.coordinator_id is not None:
        wanted["coordinator"] = org.coordinator_id
    for _, team_id, area_id in org.nqsws:
        if org.team_managers.get(team_id):
            wanted[f"tm:{team_id}"] = org.team_managers[team_id]
        if org.senior_managers.get(area_id):
            wanted[f"sm:{area_id}"] = org.senior_managers[area_id]
    tokens: dict[str, str] = {}
    from app.models import Staff

    with Session(engine) as session:
        for key, staff_id in wanted.items():
            person = session.get(Staff, staff_id)
            if person is not None:
                tokens[key] = token_for_staff(session, person)
        session.commit()
    return tokens


def requests_for(key: str, org: Organisation, *, seed: int = 1) -> list[dict[str, Any]]:
    """The request list one scenario replays (shuffled deterministically)."""
    rng = random.Random(f"{seed}/{key}")
    on = org.as_of.isoformat()
    out: list[dict[str, Any]] = []
    if key == "healthz":
        return [{"method": "GET", "path": "/healthz"}]
    if key in ("check", "write"):
        pairs = [(n, t, a, c) for n, t, a in org.nqsws for c in org.candidates.get(n, [])]
        rng.shuffle(pairs)
        for nqsw, team_id, area_id, case_id in pairs:
            if key == "check":
                out.append({"method": "POST", "path": "/api/v1/allocations/check",
                            "token": f"tm:{team_id}",
                            "json": {"case_id": case_id, "worker_id": nqsw,
                                     "role": "holder", "on": on}})
            else:
                # Signed in as the area's senior manager: the override is theirs.
                out.append({"method": "POST", "path": "/api/v1/allocations",
                            "token": f"sm:{area_id}",
                            "json": {"case_id": case_id, "worker_id": nqsw,
                                     "role": "co_worker", "start_date": on,
                                     "override_reason": "Benchmark: agreed in supervision."}})
        return out
    if key == "workload":
        return [{"method": "GET", "path": f"/api/v1/nqsws/{n}/workload",
                 "params": {"on": on}, "token": "coordinator"} for n, _, _ in org.nqsws]
    teams = sorted({t for _, t, _ in org.nqsws})
    if key == "team":
        return [{"method": "GET", "path": "/api/v1/nqsws",
                 "params": {"team_id": t, "on": on}, "token": "coordinator"} for t in teams]
    if key == "dashboard":
        return [{"method": "GET", "path": "/api/v1/breaches", "params": {"on": on},
                 "token": "coordinator"}]
    if key == "dashboard_filtered":
        filters: list[dict[str, Any]] = []
        for t in teams[:10]:
            filters.append({"team_id": t})
        for severity in ("severe", "high", "medium"):
            filters.append({"severity": severity})
        for rule in ("caseload-cap", "cp-coworking", "protected-time"):
            filters.append({"rule_id": rule})
        areas = sorted({a for _, _, a in org.nqsws})
        filters += [{"service_area_id": a} for a in areas[:5]]
        return [{"method": "GET", "path": "/api/v1/breaches", "params": {"on": on, **f},
                 "token": "coordinator"} for f in filters]
    if key == "summary":
        return [{"method": "GET", "path": "/api/v1/breaches/summary", "params": {"on": on},
                 "token": "coordinator"}]
    if key == "csv":
        return [{"method": "GET", "path": "/api/v1/breaches.csv", "params": {"on": on},
                 "token": "coordinator"}]
    if key.startswith("export_"):  # export_<report>_<format>: everyone, as the coordinator
        _, report, fmt = key.split("_")
        return [{"method": "GET", "path": f"/api/v1/exports/{report}.{fmt}",
                 "params": {"on": on}, "token": "coordinator"}]
    if key == "page_dashboard":
        return [{"method": "GET", "path": "/breaches", "params": {"on": on},
                 "cookie": "coordinator"}]
    if key == "page_team":
        return [{"method": "GET", "path": "/", "params": {"on": on},
                 "cookie": "team_manager"}]
    if key in ("candidates", "page_candidates"):
        # Open cases of the teams of the chosen NQSWs; the page, of the team whose manager
        # holds the page session (bench.run: the first chosen NQSW's team with a manager).
        page_team = next((t for _, t, _ in org.nqsws if org.team_managers.get(t)), None)
        teams = [page_team] if key == "page_candidates" else sorted(
            {t for _, t, _ in org.nqsws if org.team_managers.get(t)})
        cases = [(t, c) for t in teams for n, team, _ in org.nqsws if team == t
                 for c in org.candidates.get(n, [])[:5]]
        rng.shuffle(cases)
        if key == "page_candidates":
            return [{"method": "GET", "path": f"/cases/{c}/candidates",
                     "params": {"on": on}, "cookie": "team_manager"} for _, c in cases]
        return [{"method": "GET", "path": f"/api/v1/cases/{c}/candidates",
                 "params": {"on": on}, "token": f"tm:{t}"} for t, c in cases]
    raise KeyError(key)


def login(base_url: str, email: str, password: str) -> str:
    """A bearer token from the OAuth2 password flow (`POST /api/v1/auth/token`)."""
    import httpx

    response = httpx.post(f"{base_url}/api/v1/auth/token",
                          data={"username": email, "password": password}, timeout=30)
    response.raise_for_status()
    return str(response.json()["access_token"])


CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')
SESSION_COOKIES = ("ringfence_session", "__Host-ringfence_session")


def page_session(base_url: str, email: str, password: str) -> str:
    """The `Cookie` header of a browser signed in through the sign-in form.

    As a browser does it: `GET /login` hands out the pre-session CSRF cookie and the
    form's token, `POST /login` with both answers 303 and sets the page session.
    """
    import httpx

    with httpx.Client(base_url=base_url, timeout=30, follow_redirects=False) as client:
        form = client.get("/login")
        form.raise_for_status()
        token = CSRF_FIELD.search(form.text)
        if token is None:
            raise RuntimeError("the sign-in page carries no CSRF token")
        signed_in = client.post("/login", data={"email": email, "password": password,
                                                "csrf_token": token.group(1), "next": "/"})
        if signed_in.status_code != 303:
            raise RuntimeError(f"signing in as {email} answered {signed_in.status_code}")
        for name in SESSION_COOKIES:
            value = signed_in.cookies.get(name)
            if value:
                return f"{name}={value}"
    raise RuntimeError(f"signing in as {email} set no page session")


def mint_page_session(engine: Engine, staff_id: int) -> str:
    """A page session issued directly (when no demo sign-in exists for the role): the
    same row and cookie `POST /login` makes, without knowing anyone's password."""
    from app.auth import sessions
    from app.models import Account, Staff
    from app.repositories import account as repo
    from app.settings import Settings

    settings = Settings()  # the server's own environment decides the cookie's name
    with Session(engine) as session:
        account = repo.account_for_staff(session, staff_id)
        if account is None:
            person = session.get(Staff, staff_id)
            assert person is not None
            account = Account(email=person.email.lower(), staff_id=staff_id)
            session.add(account)
            session.flush()
        cookie, _ = sessions.start(session, account, settings, address="bench",
                                   user_agent="bench.run")
        session.commit()
    return f"{sessions.cookie_name(settings)}={cookie}"
