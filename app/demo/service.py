"""Loading the demo organisation into the configured database, once.

Idempotence is by refusal, not by merging: the demo loads only into a database with
no organisation in it. `if_empty` makes a second run a no-op (what `make run` wants);
`replace` wipes every table first; with neither, a non-empty database is an error the
caller reports. Production mode refuses the demo outright: fictional people and
cases have no place in a real organisation's database.
Merging generated people into real ones would be the one thing worse than refusing.

After the rows are in, the optional parts run if the service has them: the demo
sign-in accounts (auth) and the breach sweep, so the dashboard opens with the breaches
the policies find in the generated facts.
"""

from __future__ import annotations

import importlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import Engine

from app.db import make_engine
from app.demo.generator import DemoData
from app.demo.loader import LoadReport, generate_and_load, organisation_exists, wipe
from app.demo.sizes import size_spec
from app.jobs.transaction import transaction
from app.migrate import upgrade
from app.settings import Settings


class DemoRefused(Exception):
    """The database already holds an organisation and the caller did not say what to do."""


@dataclass
class DemoOutcome:
    size: str
    seed: int
    as_of: date
    loaded: bool
    data: DemoData | None = None
    report: LoadReport | None = None
    seconds: dict[str, float] = field(default_factory=dict)
    accounts: list[dict[str, str]] = field(default_factory=list)
    sweep: dict[str, Any] | None = None
    notes: list[str] = field(default_factory=list)


def _optional(module: str, name: str) -> Callable[..., Any] | None:
    """A function another part of the service provides, when that part is installed."""
    try:
        return getattr(importlib.import_module(module), name, None)
    except ImportError:
        return None


def create_demo_accounts(engine: Engine, settings: Settings) -> list[dict[str, str]]:
    """Sign-in accounts for demo staff (one per role), when the auth part offers them.

    Never in production mode: demo accounts have a documented password.
    """
    ensure = _optional("app.auth.demo", "ensure_demo_accounts")
    if ensure is None or settings.mode == "production":
        return []
    with transaction(engine) as session:
        made = ensure(session, settings)
    return [
        {"email": str(a.email), "role": str(a.role), "name": str(getattr(a, "name", "")),
         "password": str(getattr(a, "password", ""))}
        for a in made or []
    ]


def sweep_breaches(engine: Engine, settings: Settings, as_of: date) -> dict[str, Any] | None:
    """Run the real breach sweep on the loaded organisation, when the service has one."""
    run_sweep = _optional("app.jobs.sweep", "run_sweep")
    load_policy_set = _optional("app.policy.registry", "load_policy_set")
    if run_sweep is None or load_policy_set is None:
        return None
    report = run_sweep(engine, as_of=as_of, policies=load_policy_set(settings.policy_dir))
    return report.as_dict() if hasattr(report, "as_dict") else {"report": str(report)}


def load_demo(
    settings: Settings, *, size: str = "small", seed: int = 7, as_of: date,
    if_empty: bool = False, replace: bool = False, sweep: bool = True,
    engine: Engine | None = None,
) -> DemoOutcome:
    """Migrate, then load the organisation unless one is there (see module docstring)."""
    size_spec(size)  # refuse an unknown size before touching the database
    if if_empty and replace:
        raise ValueError("choose --if-empty or --replace, not both")
    if settings.mode == "production":
        raise DemoRefused("the demo organisation is fictional: refusing it in production mode")
    outcome = DemoOutcome(size=size, seed=seed, as_of=as_of, loaded=False)
    url = settings.effective_database_url
    started = time.perf_counter()
    upgrade(url)
    outcome.seconds["migrate"] = time.perf_counter() - started
    own_engine = engine is None
    engine = engine or make_engine(url)
    try:
        if organisation_exists(engine):
            if if_empty:
                outcome.notes.append("The database already holds an organisation: left as is.")
                return outcome
            if not replace:
                raise DemoRefused(
                    "the database already holds an organisation; use --if-empty to leave it "
                    "or --replace to wipe it and load the demo again"
                )
            started = time.perf_counter()
            wipe(engine)
            outcome.seconds["wipe"] = time.perf_counter() - started
        started = time.perf_counter()
        outcome.data, outcome.report = generate_and_load(engine, size=size, seed=seed,
                                                         as_of=as_of)
        outcome.seconds["load"] = time.perf_counter() - started
        outcome.loaded = True
        # The organisation is committed; what follows adds to it and may fail on its own
        # (a bad policy file, say) without undoing the load.
        started = time.perf_counter()
        try:
            outcome.accounts = create_demo_accounts(engine, settings)
        except Exception as exc:  # reported below; the load stands
            outcome.notes.append(f"Demo sign-ins not created: {exc}")
        outcome.seconds["accounts"] = time.perf_counter() - started
        if sweep:
            started = time.perf_counter()
            try:
                outcome.sweep = sweep_breaches(engine, settings, as_of)
            except Exception as exc:  # reported below; the load stands
                outcome.notes.append(f"Breach sweep not run: {exc}. Run `ringfence sweep`.")
            outcome.seconds["sweep"] = time.perf_counter() - started
        return outcome
    finally:
        if own_engine:
            engine.dispose()
