"""Build a synthetic children's services organisation as rows ready for bulk insert.

Deterministic: the same size, seed and as-of date give the same rows, byte for byte,
on any machine. Every random choice comes from a `random.Random` seeded with a string
naming the seed and the part being built ("7/team/3"), so that adding a new part
never shifts the choices made for the others. Dates are all relative to `as_of`, so a
demo loaded today looks as fresh as one loaded last month.

Rows carry explicit ids (numbered on from `id_start`) so that the whole organisation
can be written with a handful of bulk `INSERT`s, without a round trip per row to learn
a generated key.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from app.demo import diary, history
from app.demo.catalogue import (
    DEMO_TEAMS,
    EXPERIENCED_ONLY,
    GATED_CATEGORIES,
    KIND_CYCLE,
    TEAM_KINDS,
    TeamKind,
    complexity,
)
from app.demo.names import DEMO_SERVICE_AREAS, EMAIL_DOMAIN, FIRST_NAMES, LAST_NAMES, LOCALITIES
from app.demo.profiles import (
    COWORK_NON_AP,
    FEATURED,
    HIGH_COMPLEXITY,
    OVER_CAP,
    SOLE_CARE_PROCEEDINGS,
    SOLE_CP,
    NqswProfile,
    stage_cap,
)
from app.demo.sizes import SizeSpec, size_spec
from app.policy.programme import add_months, boundary_for
from app.policy.snapshot import PauseSpan

# Tables in the order they are written (parents before children). The diary and breach
# tables are filled only where the schema has them.
CORE_TABLES: tuple[str, ...] = (
    "service_area", "team", "staff", "enrolment", "pause", "sign_off", "adjustment",
    "case", "allocation",
)
DIARY_TABLES: tuple[str, ...] = ("protected_time", "supervision_session", "review_point")
BREACH_TABLES: tuple[str, ...] = ("breach", "breach_event")
ALL_TABLES: tuple[str, ...] = CORE_TABLES + DIARY_TABLES + BREACH_TABLES
NQSW_SAFE = GATED_CATEGORIES | EXPERIENCED_ONLY
PROGRAMME_LENGTH = {"asye": 12, "swip": 24}
CP_SIGN_OFF = "child_protection"
# The shipped stage-caps policy and the parameter an individual cap agreement changes.
CAP_POLICY_ID = "stage-caps"
CAP_AFTER_SIX_PARAMETER = "caseload-cap.bands.2.cap"


@dataclass
class DemoData:
    """The generated organisation: rows per table, plus what the loader needs to finish."""

    size: str
    seed: int
    as_of: date
    rows: dict[str, list[dict[str, Any]]]
    # Columns set once the rows they point at exist (the staff <-> team/area cycle).
    links: dict[str, list[dict[str, Any]]]
    # Featured profile key -> staff id, so tests and docs can find "the one over the cap".
    featured: dict[str, int] = field(default_factory=dict)

    def counts(self) -> dict[str, int]:
        return {table: len(rows) for table, rows in self.rows.items()}


@dataclass
class _Worker:
    id: int
    role: str
    team: int | None
    start: date
    leave: date | None = None
    fte: float = 1.0

    def employed(self, first: date, last: date) -> bool:
        return self.start <= first and (self.leave is None or self.leave >= last)


@dataclass
class _Nqsw:
    worker: _Worker
    profile: NqswProfile
    enrolment_id: int
    start: date
    pauses: tuple[PauseSpan, ...]
    signed_on: date | None


@dataclass
class _Team:
    index: int
    id: int
    name: str
    kind: TeamKind
    area: int
    manager: _Worker | None = None
    aps: list[_Worker] = field(default_factory=list)
    sws: list[_Worker] = field(default_factory=list)
    leavers: list[_Worker] = field(default_factory=list)
    nqsws: list[_Nqsw] = field(default_factory=list)

    def holders(self) -> list[_Worker]:
        """Experienced case holders, past and present (history is spread across them)."""
        return [*self.sws, *self.aps, *self.leavers]


def _stamp(day: date) -> datetime:
    """A deterministic creation time: nine in the morning (UTC) on the record's own date."""
    return datetime.combine(day, time(9, 0), tzinfo=UTC)


def _between(rng: random.Random, first: date, last: date) -> date:
    if last <= first:
        return first
    return first + timedelta(days=rng.randint(0, (last - first).days))


class _Builder:
    def __init__(
        self, spec: SizeSpec, seed: int, as_of: date, id_start: Mapping[str, int]
    ) -> None:
        self.spec = spec
        self.seed = seed
        self.as_of = as_of
        self.rows: dict[str, list[dict[str, Any]]] = {t: [] for t in ALL_TABLES}
        self.links: dict[str, list[dict[str, Any]]] = {"service_area": [], "team": []}
        self._next_id = {t: int(id_start.get(t, 0)) for t in ALL_TABLES}
        # Every enrolment's diary facts, with the profile that shapes its diary (if any).
        self.programmes: list[tuple[diary.Programme, NqswProfile | None]] = []
        self._emails: set[str] = set()
        self._case_seq = 0
        self.teams: list[_Team] = []
        self.areas: list[int] = []
        self.senior_managers: list[_Worker] = []
        self.featured: dict[str, int] = {}
        self._team_index: dict[int, int] = {}
        self._first_enrolment = 0
        self.area_of_staff: dict[int, int] = {}

    # --- plumbing -------------------------------------------------------------------------

    def rng(self, *part: object) -> random.Random:
        return random.Random("/".join(str(p) for p in (self.seed, *part)))

    def add(self, table: str, row: dict[str, Any]) -> int:
        self._next_id[table] += 1
        row["id"] = self._next_id[table]
        self.rows[table].append(row)
        return row["id"]

    def years_ago(self, rng: random.Random, low: float, high: float) -> date:
        return self.as_of - timedelta(days=rng.randint(int(low * 365), int(high * 365)))

    # --- organisation ---------------------------------------------------------------------

    def build_structure(self) -> None:
        spec = self.spec
        for index in range(spec.service_areas):
            if spec.service_areas == len(DEMO_SERVICE_AREAS):
                name = DEMO_SERVICE_AREAS[index]
            else:
                name = f"{LOCALITIES[index % len(LOCALITIES)]} Children's Services"
                if index >= len(LOCALITIES):
                    name += f" {index // len(LOCALITIES) + 1}"
            self.areas.append(self.add("service_area", {
                "name": name, "senior_manager_id": None, "closed_on": None,
                "created_at": _stamp(self.as_of - timedelta(days=5 * 365)),
            }))
        for index in range(spec.teams):
            if spec.teams == len(DEMO_TEAMS) and spec.service_areas == 3:
                name, kind_key, area = DEMO_TEAMS[index]
            else:
                kind_key = KIND_CYCLE[index % len(KIND_CYCLE)]
                area = index * spec.service_areas // spec.teams
                locality = LOCALITIES[area % len(LOCALITIES)]
                name = f"{TEAM_KINDS[kind_key].label} {locality} {index + 1}"
            team_id = self.add("team", {
                "name": name, "service_area_id": self.areas[area], "manager_id": None,
                "closed_on": None, "created_at": _stamp(self.as_of - timedelta(days=5 * 365)),
            })
            self.teams.append(_Team(index, team_id, name, TEAM_KINDS[kind_key], area))
            self._team_index[team_id] = index

    def person(
        self, rng: random.Random, *, role: str, team: _Team | None, start: date,
        leave: date | None = None, fte: float = 1.0, experienced: bool = True,
    ) -> _Worker:
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        local = f"{first}.{last}".lower().replace("'", "")
        email, n = f"{local}@{EMAIL_DOMAIN}", 1
        while email in self._emails:
            n += 1
            email = f"{local}{n}@{EMAIL_DOMAIN}"
        self._emails.add(email)
        staff_id = self.add("staff", {
            "name": f"{first} {last}", "email": email, "role": role,
            "team_id": team.id if team else None, "contracted_hours": round(37 * fte, 1),
            "fte": fte, "start_date": start, "leave_date": leave, "experienced": experienced,
            "created_at": _stamp(start),
        })
        return _Worker(staff_id, role, team.index if team else None, start, leave, fte)

    def build_staff(self) -> None:
        spec, rng = self.spec, self.rng("staff")
        coordinators = max(1, spec.teams // 50)
        for _ in range(coordinators):
            self.person(rng, role="asye_coordinator", team=None, start=self.years_ago(rng, 2, 8))
        self.person(rng, role="admin", team=None, start=self.years_ago(rng, 1, 6),
                    experienced=False)
        for area_id in self.areas:
            manager = self.person(rng, role="senior_manager", team=None,
                                  start=self.years_ago(rng, 4, 15))
            self.senior_managers.append(manager)
            self.links["service_area"].append({"id": area_id, "senior_manager_id": manager.id})
        for team in self.teams:
            team.manager = self.person(rng, role="team_manager", team=team,
                                       start=self.years_ago(rng, 3, 15))
            self.links["team"].append({"id": team.id, "manager_id": team.manager.id})
        extra_aps = spec.teams // 4
        for index, team in enumerate(self.teams):
            for _ in range(1 + (1 if index % 4 in (3, 4) and extra_aps else 0)):
                team.aps.append(self.person(rng, role="advanced_practitioner", team=team,
                                            start=self.years_ago(rng, 4, 14)))
        self.build_nqsws()
        employed = sum(
            len(t.aps) + len(t.nqsws) + 1 for t in self.teams
        ) + coordinators + 1 + len(self.areas)
        social_workers = max(spec.teams * 2, spec.staff - employed)
        # Some of today's social workers finished their ASYE here during the history.
        completed = min(social_workers // 3, round(spec.nqsws * 0.4 * spec.history_years))
        for index in range(social_workers):
            team = self.teams[index % len(self.teams)]
            if index < completed:
                start = self.as_of - timedelta(
                    days=rng.randint(13 * 30, (spec.history_years + 1) * 365)
                )
                worker = self.person(rng, role="social_worker", team=team, start=start,
                                     experienced=start < add_months(self.as_of, -24))
                ended = add_months(start, 12)
                enrolment_id = self.enrol(worker, team, "asye", start, status="completed",
                                          outcome="passed", ended_on=ended)
                self.record_programme(worker, team, enrolment_id, "asye", start, ended, (), ())
            else:
                fte = 1.0 if rng.random() > 0.12 else rng.choice((0.6, 0.8))
                worker = self.person(rng, role="social_worker", team=team,
                                     start=self.years_ago(rng, 1.2, 15), fte=fte)
            team.sws.append(worker)
        leavers = round(social_workers * spec.leaver_share_per_year * spec.history_years)
        for index in range(leavers):
            team = self.teams[(index * 7) % len(self.teams)]
            leave = self.as_of - timedelta(days=rng.randint(14, spec.history_years * 365))
            start = leave - timedelta(days=rng.randint(2 * 365, 10 * 365))
            team.leavers.append(self.person(rng, role="social_worker", team=team, start=start,
                                            leave=leave))
        for index in range(max(1, spec.nqsws // 25)):
            team = self.teams[(index * 3 + 2) % len(self.teams)]
            leave = self.as_of - timedelta(days=rng.randint(30, 200))
            start = leave - timedelta(days=rng.randint(100, 250))
            worker = self.person(rng, role="nqsw", team=team, start=start, leave=leave,
                                 experienced=False)
            enrolment_id = self.enrol(worker, team, "asye", start, status="withdrawn",
                                      outcome="withdrawn: left_employer", ended_on=leave)
            self.record_programme(worker, team, enrolment_id, "asye", start, leave, (), ())

    def record_programme(
        self, worker: _Worker, team: _Team, enrolment_id: int, programme: str, start: date,
        end: date, pauses: tuple[PauseSpan, ...], pause_ids: tuple[int, ...],
        profile: NqswProfile | None = None,
    ) -> None:
        staff = self.rows["staff"][worker.id - self.rows["staff"][0]["id"]]
        self.programmes.append((diary.Programme(
            enrolment_id=enrolment_id, staff_id=worker.id, programme=programme, start=start,
            end=end, fte=worker.fte, contracted_hours=staff["contracted_hours"], pauses=pauses,
            pause_ids=pause_ids, manager_id=team.manager.id if team.manager else None,
            ap_id=team.aps[0].id if team.aps else None,
        ), profile))

    def enrol(
        self, worker: _Worker, team: _Team, programme: str, start: date, *, status: str,
        outcome: str | None = None, ended_on: date | None = None,
    ) -> int:
        return self.add("enrolment", {
            "staff_id": worker.id, "programme": programme, "start_date": start,
            "status": status, "assessor_id": team.manager.id if team.manager else None,
            "advanced_practitioner_id": team.aps[0].id if team.aps else None,
            "outcome": outcome, "ended_on": ended_on, "lock_version": 0,
            "created_at": _stamp(start),
        })

    # --- NQSWs -----------------------------------------------------------------------------

    def profiles(self) -> list[NqswProfile]:
        featured = [p for p in FEATURED if p.team < len(self.teams)]
        chosen = featured[: self.spec.nqsws]
        rng = self.rng("profiles")
        for index in range(len(chosen), self.spec.nqsws):
            chosen.append(self.generic_profile(rng, index))
        return chosen

    def generic_profile(self, rng: random.Random, index: int) -> NqswProfile:
        programme = "swip" if rng.random() < self.spec.swip_share else "asye"
        months = rng.randrange(PROGRAMME_LENGTH[programme])
        days = rng.randint(0, 27)
        fte = 1.0 if rng.random() > 0.15 else rng.choice((0.6, 0.8))
        past_pause_days = past_pause_ago = 0
        maternity: int | None = None
        roll = rng.random()
        if months >= 3 and roll < 0.02:
            maternity = rng.randint(1, 6)
        elif months >= 3 and roll < 0.06:
            past_pause_days, past_pause_ago = rng.randint(14, 70), rng.randint(1, months - 1)
        signed = rng.randint(6, min(months, 9)) if months >= 6 and rng.random() < 0.5 else None
        cap = stage_cap(months, fte)
        coworked = rng.randint(0, 2) if signed is None and months >= 1 else 0
        cp_held = rng.randint(0, 3) if signed is not None else 0
        if months == 0:
            held = rng.randint(0, 3)
        else:
            held = max(0, round(cap * rng.uniform(0.45, 0.95)) - math.ceil(coworked / 2)
                       - cp_held)
        problem = None
        if maternity is None and rng.random() < self.spec.breach_share:
            options = [OVER_CAP]
            if signed is None:
                options += [COWORK_NON_AP]
                if months < 12:
                    options += [SOLE_CP, SOLE_CARE_PROCEEDINGS]
                if months < 6:
                    options += [HIGH_COMPLEXITY]
            problem = rng.choice(options)
            if problem == OVER_CAP:
                held = cap + rng.randint(1, 3) - cp_held
        promises = rng.random()
        return NqswProfile(
            diary=diary.SLIPPING if promises < 0.05 else diary.KEPT,
            supervision=diary.LAPSED if 0.05 <= promises < 0.1 else diary.REGULAR,
            missed_review=3 if 0.1 <= promises < 0.14 and months >= 4 else None,
            key=f"nqsw-{index + 1}", team=rng.randrange(len(self.teams)), months=months,
            days=days, programme=programme, fte=fte, held=0 if maternity else held,
            coworked=0 if maternity else coworked, problem=problem, signed_off_month=signed,
            cp_held=0 if maternity else cp_held, past_pause_days=past_pause_days,
            past_pause_months_ago=past_pause_ago, maternity_months_ago=maternity,
        )

    def programme_dates(self, p: NqswProfile) -> tuple[date, tuple[PauseSpan, ...]]:
        """The start date that puts the NQSW `months` + `days` into the programme today."""
        if p.maternity_months_ago is not None:
            paused_from = add_months(self.as_of, -p.maternity_months_ago)
            start = add_months(paused_from, -p.months) - timedelta(days=p.days)
            return start, (PauseSpan(paused_from, None, "maternity"),)
        if p.past_pause_days:
            start = add_months(self.as_of - timedelta(days=p.past_pause_days), -p.months)
            start -= timedelta(days=p.days)
            paused_from = add_months(self.as_of, -p.past_pause_months_ago)
            paused_to = paused_from + timedelta(days=p.past_pause_days - 1)
            if start < paused_from and paused_to < self.as_of:
                return start, (PauseSpan(paused_from, paused_to, "health"),)
        return add_months(self.as_of, -p.months) - timedelta(days=p.days), ()

    def diary_end(
        self, profile: NqswProfile, start: date, pauses: tuple[PauseSpan, ...]
    ) -> date:
        """The last day of the current programme year: how far ahead the diary is kept."""
        year = profile.months // 12 + 1
        end = boundary_for(start, pauses, 12 * year) or add_months(start, 12 * year)
        return end - timedelta(days=1)

    def build_nqsws(self) -> None:
        rng = self.rng("nqsws")
        for profile in self.profiles():
            team = self.teams[profile.team]
            start, pauses = self.programme_dates(profile)
            worker = self.person(rng, role="nqsw", team=team, start=start, fte=profile.fte,
                                 experienced=False)
            status = "paused" if any(p.end is None for p in pauses) else "active"
            enrolment_id = self.enrol(worker, team, profile.programme, start, status=status)
            pause_ids: list[int] = []
            for pause in pauses:
                pause_ids.append(self.add("pause", {
                    "enrolment_id": enrolment_id, "start_date": pause.start,
                    "end_date": pause.end, "reason": pause.reason,
                    "note": "Maternity leave" if pause.reason == "maternity"
                    else "Sickness absence; programme deferred",
                    "created_at": _stamp(pause.start),
                }))
            signed_on = None
            if profile.signed_off_month is not None:
                boundary = boundary_for(start, pauses, profile.signed_off_month)
                if boundary is not None:
                    signed_on = min(boundary + timedelta(days=rng.randint(0, 14)),
                                    self.as_of - timedelta(days=1))
                    self.add("sign_off", {
                        "enrolment_id": enrolment_id, "kind": CP_SIGN_OFF,
                        "signed_on": signed_on, "team_manager_id": team.manager.id,
                        "senior_manager_id": self.senior_managers[team.area].id,
                        "note": "Co-worked CP plans with the advanced practitioner; "
                        "ready to hold child protection work.",
                        "revoked_on": None, "created_at": _stamp(signed_on),
                        "team_manager_approved_at": _stamp(signed_on),
                        "senior_manager_approved_at": _stamp(signed_on),
                        "recorded_by_id": team.manager.id,
                    })
            if profile.reduced_cap is not None:
                agreed = (boundary_for(start, pauses, 6) or self.as_of) - timedelta(days=14)
                self.add("adjustment", {
                    "enrolment_id": enrolment_id, "policy_id": CAP_POLICY_ID,
                    "parameter": CAP_AFTER_SIX_PARAMETER, "value": profile.reduced_cap,
                    # The number agreed with their hours in mind: it is not pro rata again.
                    "applies_as": "as_agreed",
                    "reason": f"Part-time ({profile.fte:g} FTE) and building confidence: "
                    f"cap of {profile.reduced_cap} after month 6, reviewed at month 9.",
                    "approved_by_id": self.senior_managers[team.area].id,
                    "valid_from": agreed, "valid_to": add_months(agreed, 6),
                    "created_at": _stamp(agreed),
                })
            team.nqsws.append(_Nqsw(worker, profile, enrolment_id, start, pauses, signed_on))
            self.record_programme(worker, team, enrolment_id, profile.programme, start,
                                  self.diary_end(profile, start, pauses), pauses,
                                  tuple(pause_ids), profile)
            if profile.key in {p.key for p in FEATURED}:
                self.featured[profile.key] = worker.id

    # --- cases ------------------------------------------------------------------------------

    def case(
        self, team: _Team, category: str, level: int, opened: date, closed: date | None = None
    ) -> int:
        self._case_seq += 1
        return self.add("case", {
            "reference": f"NM-{opened.year}-{self._case_seq:06d}", "category": category,
            "complexity": level, "team_id": team.id, "opened_on": opened,
            "closed_on": closed, "created_at": _stamp(opened),
        })

    def allocate(
        self, case_id: int, worker: _Worker, start: date, end: date | None = None, *,
        role: str = "holder", by: _Worker | None = None, override: str | None = None,
    ) -> int:
        """A worker's part in a case; `end` is the first day they no longer hold it."""
        return self.add("allocation", {
            "case_id": case_id, "worker_id": worker.id, "role": role, "start_date": start,
            "end_date": end, "allocated_by_id": by.id if by else None,
            "override_reason": override, "created_at": _stamp(start),
        })

    def open_case_for(
        self, rng: random.Random, team: _Team, worker: _Worker, category: str, level: int,
        *, earliest: date, role: str = "holder", override: str | None = None,
        by: _Worker | None = None,
    ) -> tuple[int, date]:
        """An open case the worker has had since some day on or after `earliest`.

        Half of them came over from a colleague (the case is older than the allocation),
        the way stepped-down and transferred work reaches an NQSW.
        """
        first = max(earliest, worker.start, self.as_of - timedelta(days=2 * 365))
        start = _between(rng, first, self.as_of)
        colleagues = [w for w in team.sws
                      if w is not worker and w.start < start - timedelta(days=30)]
        if colleagues and rng.random() < 0.5:
            colleague = rng.choice(colleagues)
            opened = start - timedelta(days=rng.randint(30, 400))
            case_id = self.case(team, category, level, opened)
            self.allocate(case_id, colleague, max(opened, colleague.start),
                          start, by=team.manager)
        else:
            case_id = self.case(team, category, level,
                                start - timedelta(days=rng.randint(0, 14)))
        self.allocate(case_id, worker, start, role=role, by=by or team.manager,
                      override=override)
        return case_id, start

    def experienced_open_case(self, rng: random.Random, team: _Team, worker: _Worker) -> int:
        """One open case of an experienced worker, sometimes handed over from a leaver."""
        category = team.kind.category(rng)
        level = complexity(rng, category)
        opened = self.as_of - timedelta(days=min(int(rng.expovariate(1 / 240)), 3 * 365))
        case_id = self.case(team, category, level, opened)
        start = max(opened, worker.start)
        if start > opened or rng.random() < 0.15:
            leavers = [w for w in team.leavers
                       if w.employed(opened, opened) and w.leave and opened < w.leave]
            previous: _Worker | None = None
            handover = start
            if leavers and rng.random() < 0.6:
                previous = rng.choice(leavers)
                assert previous.leave is not None
                handover = max(previous.leave + timedelta(days=1), worker.start)
            else:
                others = [w for w in team.holders()
                          if w is not worker and w.employed(opened, self.as_of)]
                if others:
                    previous = rng.choice(others)
                    handover = _between(rng, max(opened + timedelta(days=1), worker.start),
                                        self.as_of)
            if previous is not None and handover > opened:
                until = handover
                if previous.leave is not None:
                    until = min(handover, previous.leave + timedelta(days=1))
                self.allocate(case_id, previous, opened, until, by=team.manager)
                start = handover
        self.allocate(case_id, worker, min(start, self.as_of), by=team.manager)
        return case_id

    def build_cases(self) -> None:
        spec = self.spec
        nqsw_open = sum(
            n.profile.held + n.profile.cp_held + (1 if n.profile.problem not in (None, OVER_CAP)
                                                  else 0)
            for t in self.teams for n in t.nqsws
        )
        ap_own = 8
        ap_open = sum(len(t.aps) * ap_own for t in self.teams) + sum(
            n.profile.coworked for t in self.teams for n in t.nqsws
        )
        unallocated_share = 0.015
        sw_capacity = sum(sw.fte for t in self.teams for sw in t.sws)
        remaining = spec.open_cases * (1 - unallocated_share) - nqsw_open - ap_open
        sw_mean = max(3.0, remaining / max(1.0, sw_capacity))
        for team in self.teams:
            rng = self.rng("team", team.index)
            opened_here = self.team_nqsw_cases(rng, team)
            for ap in team.aps:
                for _ in range(max(2, round(rng.gauss(ap_own, 2)))):
                    self.experienced_open_case(rng, team, ap)
                    opened_here += 1
            for sw in team.sws:
                for _ in range(max(1, round(rng.gauss(sw_mean * sw.fte, sw_mean * 0.2)))):
                    self.experienced_open_case(rng, team, sw)
                    opened_here += 1
            for _ in range(int(opened_here * unallocated_share + rng.random())):
                category = team.kind.category(rng)
                self.case(team, category, complexity(rng, category),
                          self.as_of - timedelta(days=rng.randint(0, 10)))
            self.closed_history(rng, team, opened_here)

    def team_nqsw_cases(self, rng: random.Random, team: _Team) -> int:
        """The NQSWs' open cases (and their past ones), shaped by each profile."""
        count = 0
        ap = team.aps[0]
        for nqsw in team.nqsws:
            p, worker = nqsw.profile, nqsw.worker
            early = p.months < 6 and nqsw.signed_on is None
            most = 3 if early else 4
            for index in range(p.held):
                category = team.kind.category(rng, exclude=NQSW_SAFE)
                # Over a cap: the cases past the cap went in on a recorded override.
                over = p.problem == OVER_CAP and index >= stage_cap(p.months, p.fte)
                self.open_case_for(
                    rng, team, worker, category, complexity(rng, category, most=most),
                    earliest=nqsw.start, by=self.senior_managers[team.area] if over else None,
                    override="Team at capacity during sickness absence; reviewed weekly in "
                    "supervision." if over else None,
                )
                count += 1
            for _ in range(p.coworked):
                level = 3 if early else complexity(rng, "child_protection_plan")
                case_id, held_from = self.open_case_for(
                    rng, team, ap, "child_protection_plan", level, earliest=ap.start
                )
                self.allocate(case_id, worker,
                              _between(rng, max(held_from, nqsw.start), self.as_of),
                              role="co_worker", by=team.manager)
            for _ in range(p.cp_held):
                self.open_case_for(rng, team, worker, "child_protection_plan",
                                   complexity(rng, "child_protection_plan"),
                                   earliest=nqsw.signed_on or nqsw.start)
                count += 1
            if p.problem == SOLE_CP:
                self.open_case_for(rng, team, worker, "child_protection_plan", 3,
                                   earliest=nqsw.start)
            elif p.problem == SOLE_CARE_PROCEEDINGS:
                self.open_case_for(rng, team, worker, "care_proceedings", most,
                                   earliest=nqsw.start)
            elif p.problem == HIGH_COMPLEXITY:
                self.open_case_for(rng, team, worker, "child_in_need", 4, earliest=nqsw.start)
            elif p.problem == COWORK_NON_AP:
                holder = rng.choice(team.sws)
                case_id, held_from = self.open_case_for(
                    rng, team, holder, "child_protection_plan", 3, earliest=holder.start
                )
                self.allocate(case_id, worker,
                              _between(rng, max(held_from, nqsw.start), self.as_of),
                              role="co_worker", by=team.manager)
            count += 1 if p.problem not in (None, OVER_CAP) else 0
            count += self.nqsw_past_cases(rng, team, nqsw)
        return count

    def nqsw_past_cases(self, rng: random.Random, team: _Team, nqsw: _Nqsw) -> int:
        """Work the NQSW finished earlier in the programme, or handed on when paused."""
        paused_from = next((p.start for p in nqsw.pauses if p.end is None), None)
        last = (paused_from or self.as_of) - timedelta(days=1)
        opened = 0
        if paused_from is not None:
            # Cases held before a maternity leave went to colleagues on its first day.
            for _ in range(min(5, 2 + nqsw.profile.months)):
                category = team.kind.category(rng, exclude=NQSW_SAFE)
                start = _between(rng, nqsw.start, last)
                case_id = self.case(team, category, complexity(rng, category, most=3), start)
                self.allocate(case_id, nqsw.worker, start, paused_from, by=team.manager)
                self.allocate(case_id, rng.choice(team.sws), paused_from, by=team.manager)
                opened += 1
            return opened
        for _ in range(nqsw.profile.months // 3):
            category = team.kind.category(rng, exclude=NQSW_SAFE)
            start = _between(rng, nqsw.start, last - timedelta(days=20))
            closed = _between(rng, start + timedelta(days=7), last)
            if closed >= self.as_of:
                continue
            case_id = self.case(team, category, complexity(rng, category, most=3), start,
                                closed)
            self.allocate(case_id, nqsw.worker, start, closed, by=team.manager)
        return opened

    def closed_history(self, rng: random.Random, team: _Team, open_count: int) -> None:
        """Cases opened and closed during the years of history, with their allocations."""
        spec = self.spec
        total = round(open_count * spec.closed_per_open_per_year * spec.history_years)
        horizon = spec.history_years * 365
        holders = team.holders()
        for _ in range(total):
            closed = self.as_of - timedelta(days=rng.randint(1, horizon))
            opened = closed - timedelta(days=rng.randint(14, 540))
            candidates: list[_Worker] = []
            for _ in range(6):
                pick = rng.choice(holders)
                if pick.employed(opened, closed) and pick not in candidates:
                    candidates.append(pick)
            if not candidates:
                continue
            category = team.kind.category(rng)
            case_id = self.case(team, category, complexity(rng, category), opened, closed)
            first = candidates[0]
            if len(candidates) > 1 and rng.random() < 0.15 and (closed - opened).days > 30:
                handover = _between(rng, opened + timedelta(days=14), closed)
                self.allocate(case_id, first, opened, handover,
                              by=team.manager)
                self.allocate(case_id, candidates[1], handover, closed, by=team.manager)
            else:
                self.allocate(case_id, first, opened, closed, by=team.manager)

    def build_diaries(self) -> None:
        """Protected time, supervision and reviews, then the history of resolved breaches."""
        for programme, profile in self.programmes:
            rng = self.rng("diary", programme.enrolment_id - self._first_enrolment)
            diary.protected_time(self.add, rng, programme, self.as_of,
                                 mode=profile.diary if profile else diary.KEPT)
            diary.supervision(self.add, rng, programme, self.as_of,
                              mode=profile.supervision if profile else diary.REGULAR)
            diary.reviews(self.add, rng, programme, self.as_of,
                          skip=profile.missed_review if profile else None)
            past = rng.random() < (0.35 if profile is None else 0.15)
            if past:
                team_area = self.area_of_staff.get(programme.staff_id)
                history.resolved_breaches(
                    self.add, rng, programme, self.as_of, count=rng.randint(1, 3),
                    senior_manager_id=self.senior_managers[team_area].id
                    if team_area is not None else None,
                )

    def build(self) -> DemoData:
        self.build_structure()
        self.build_staff()
        self.build_cases()
        self._first_enrolment = self.rows["enrolment"][0]["id"] if self.rows["enrolment"] else 0
        self.area_of_staff = {
            row["id"]: self.teams[self._team_index[row["team_id"]]].area
            for row in self.rows["staff"] if row["team_id"] is not None
        }
        self.build_diaries()
        return DemoData(self.spec.name, self.seed, self.as_of, self.rows, self.links,
                        self.featured)


def generate(
    size: str | SizeSpec = "small", *, seed: int = 7, as_of: date,
    id_start: Mapping[str, int] | None = None,
) -> DemoData:
    """The organisation of this size as rows, the same for the same seed and date."""
    spec = size if isinstance(size, SizeSpec) else size_spec(size)
    return _Builder(spec, seed, as_of, id_start or {}).build()


def iter_rows(data: DemoData, tables: Iterable[str]) -> Iterable[tuple[str, dict[str, Any]]]:
    for table in tables:
        for row in data.rows.get(table, ()):
            yield table, row
