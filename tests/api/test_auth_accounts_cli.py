"""Accounts from the command line (`ringfence users ...`) and the demo sign-ins."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pyotp
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlmodel import Session, col, select
from typer.testing import CliRunner

from app.auth import accounts, passwords, second_factor
from app.auth.demo import (
    DEMO_PASSWORD,
    DemoAccountsRefused,
    demo_email,
    ensure_demo_accounts,
    list_demo_accounts,
)
from app.auth.install import DemoAccountsLive, check_demo_accounts, demo_accounts_problem
from app.auth.testing import make_staff
from app.cli import cli
from app.db import make_engine
from app.models import Account, AuditEvent, Enrolment, OutboxMessage, Staff
from app.settings import Settings, get_settings
from tests.api.test_access_matrix import World, build_world

ROLES = ("nqsw", "advanced_practitioner", "social_worker", "team_manager", "senior_manager",
         "asye_coordinator", "admin")


@pytest.fixture
def cli_database(
    fresh_database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[str]:
    monkeypatch.setenv("RINGFENCE_DATABASE_URL", fresh_database_url)
    monkeypatch.setenv("RINGFENCE_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("RINGFENCE_MODE", raising=False)
    get_settings.cache_clear()
    yield fresh_database_url
    get_settings.cache_clear()


def run(*args: str, stdin: str | None = None):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(cli, list(args), input=stdin)


def test_the_first_admin_is_created_by_a_command_and_can_sign_in(
    cli_database: str, tmp_path: Path
) -> None:
    made = run("users", "create-admin", "--email", "Boss@Example.org", "--password-stdin",
               stdin="a long enough passphrase\n")
    assert made.exit_code == 0, made.output
    assert "boss@example.org" in made.output
    engine = make_engine(cli_database)
    try:
        with Session(engine) as session:
            account = session.exec(select(Account)).one()
            staff = session.get(Staff, account.staff_id)
            assert staff is not None and staff.role == "admin"
            assert account.password_hash and "passphrase" not in account.password_hash
            actions = set(session.exec(select(AuditEvent.action)).all())
            assert {"account.create", "staff.create"} <= actions
    finally:
        engine.dispose()
    from app.main import create_app

    app = create_app(get_settings())
    try:
        with TestClient(app) as client:
            token = client.post("/api/v1/auth/token", data={
                "username": "boss@example.org", "password": "a long enough passphrase"})
            assert token.status_code == 200
    finally:
        app.state.engine.dispose()


def test_cli_refuses_weak_passwords_and_unknown_people(cli_database: str) -> None:
    weak = run("users", "create-admin", "--email", "a@example.org", "--password-stdin",
               stdin="short\n")
    assert weak.exit_code == 1 and "12 characters" in weak.output
    nobody = run("users", "create", "--email", "x@example.org", "--password-stdin",
                 stdin="a long enough passphrase\n")
    assert nobody.exit_code == 1 and "role" in nobody.output
    no_such = run("users", "reset-password", "--email", "ghost@example.org",
                  "--password-stdin", stdin="a long enough passphrase\n")
    assert no_such.exit_code == 1


def test_create_reset_and_role_change_from_the_cli(cli_database: str) -> None:
    created = run("users", "create", "--email", "tm@example.org", "--role", "team_manager",
                  "--name", "Tess Manager")
    assert created.exit_code == 0, created.output
    assert "reset-password --send-link" in created.output  # no password yet
    reset = run("users", "reset-password", "--email", "tm@example.org", "--password-stdin",
                stdin="another long passphrase\n")
    assert reset.exit_code == 0, reset.output
    promoted = run("users", "set-role", "--email", "tm@example.org", "--role", "senior_manager")
    assert promoted.exit_code == 0, promoted.output
    listed = run("users", "list")
    assert "tm@example.org" in listed.output and "senior_manager" in listed.output
    engine = make_engine(cli_database)
    try:
        with Session(engine) as session:
            change = session.exec(
                select(AuditEvent).where(AuditEvent.action == "account.role_change")
            ).one()
            assert change.after == {"role": "senior_manager"}
    finally:
        engine.dispose()
    # A lost phone: the operator takes the second factor off, and says so.
    engine = make_engine(cli_database)
    try:
        with Session(engine) as session:
            account = session.exec(select(Account).where(
                Account.email == "tm@example.org")).one()
            secret = second_factor.begin_set_up(session, account)
            step = int(time.time()) // 30
            code = pyotp.TOTP(secret).at(step * 30)
            confirmed, _, _ = second_factor.confirm_set_up(session, account, code,
                                                          address="127.0.0.1")
            assert confirmed
            session.commit()
        removed = run("users", "remove-second-factor", "--email", "tm@example.org")
        assert removed.exit_code == 0 and "second factor removed" in removed.output
        with Session(engine) as session:
            account = session.exec(select(Account).where(
                Account.email == "tm@example.org")).one()
            assert not second_factor.has_second_factor(account)
    finally:
        engine.dispose()
    assert run("users", "deactivate", "--email", "tm@example.org").exit_code == 0


def test_an_operator_can_send_a_link_instead_of_typing_a_password(cli_database: str) -> None:
    created = run("users", "create", "--email", "sw@example.org", "--role", "social_worker",
                  "--send-link")
    assert created.exit_code == 0, created.output
    assert "one-time link" in created.output
    assert run("users", "reset-password", "--email", "sw@example.org", "--send-link",
               "--password-stdin", stdin="x\n").exit_code == 1
    reset = run("users", "reset-password", "--email", "sw@example.org", "--send-link")
    assert reset.exit_code == 0, reset.output
    engine = make_engine(cli_database)
    try:
        with Session(engine) as session:
            account = session.exec(select(Account).where(Account.email == "sw@example.org")).one()
            assert account.password_hash is None
            queued = session.exec(select(OutboxMessage).where(
                OutboxMessage.to_address == "sw@example.org").order_by(OutboxMessage.id)).all()
            assert [m.subject for m in queued] == ["Choose your password for Ringfence",
                                                   "Your Ringfence password has been reset"]
            assert "the service's operator" in queued[1].text and "/set-password/rfl_" in (
                queued[1].text)
            trail = [e.action for e in session.exec(select(AuditEvent).where(
                col(AuditEvent.action).startswith("account.password_")).order_by(
                AuditEvent.id)).all()]
            assert trail == ["account.password_link_issue", "account.password_reset",
                             "account.password_link_withdraw", "account.password_link_issue"]
    finally:
        engine.dispose()


def test_demo_accounts_one_per_role_with_the_documented_password(
    db_session: Session, test_settings: Settings
) -> None:
    world = build_world(db_session)  # everyone in it already has an account
    newcomer = _newcomer(db_session, world)
    made = ensure_demo_accounts(db_session, test_settings)
    assert [a.role for a in made] == list(ROLES)
    assert {a.email for a in made} == {demo_email(role) for role in ROLES}
    # Nobody's own account is taken over: the NQSW is the one without an account.
    assert {a.role: a for a in made}["nqsw"].name == newcomer.name
    again = ensure_demo_accounts(db_session, test_settings)
    assert [a.email for a in again] == [a.email for a in made]
    demo_accounts = db_session.exec(
        select(Account).where(Account.email.like("demo-%"))  # type: ignore[attr-defined]
    ).all()
    assert len(demo_accounts) == len(ROLES)
    assert [a.role for a in list_demo_accounts(db_session)] == list(ROLES)
    assert all(a.password == DEMO_PASSWORD for a in made)


def _newcomer(session: Session, world: World) -> Staff:
    """An NQSW of team 1 on the programme, without an account yet."""
    team = world.own.people["nqsw"].team_id
    staff = Staff(name="New Starter", email="new.starter@example.org", role="nqsw",
                  team_id=team, start_date=date(2026, 1, 1))
    session.add(staff)
    session.flush()
    session.add(Enrolment(staff_id=staff.id, programme="asye", start_date=date(2026, 1, 5),
                          advanced_practitioner_id=world.own.people["advanced_practitioner"].id))
    session.flush()
    return staff


def test_demo_accounts_sign_in(client: TestClient, db_session: Session,
                               test_settings: Settings) -> None:
    _newcomer(db_session, build_world(db_session))
    ensure_demo_accounts(db_session, test_settings)
    db_session.commit()
    response = client.post("/api/v1/auth/token", data={
        "username": demo_email("team_manager"), "password": DEMO_PASSWORD})
    assert response.status_code == 200, response.text
    me = client.get("/api/v1/me",
                    headers={"Authorization": f"Bearer {response.json()['access_token']}"})
    assert me.json()["role"] == "team_manager"


def test_no_demo_accounts_in_production(db_session: Session, test_settings: Settings,
                                        cli_database: str, monkeypatch: pytest.MonkeyPatch
                                        ) -> None:
    production = test_settings.model_copy(update={"mode": "production"})
    with pytest.raises(DemoAccountsRefused):
        ensure_demo_accounts(db_session, production)
    monkeypatch.setenv("RINGFENCE_MODE", "production")
    monkeypatch.setenv("RINGFENCE_SECRET_KEY", "s" * 40)
    get_settings.cache_clear()
    refused = run("users", "demo-accounts", "--ensure")
    assert refused.exit_code == 1 and "production" in refused.output


def test_production_refuses_demo_sign_ins(
    app_on_test_session: FastAPI, db_session: Session, test_settings: Settings
) -> None:
    """On a database that held the demo, production mode accepts neither a demo sign-in nor
    the published password, even for a real account that somehow has it."""
    _newcomer(db_session, build_world(db_session))
    ensure_demo_accounts(db_session, test_settings)
    real = make_staff(db_session, "team_manager")
    account = accounts.create_account(db_session, email=real.email, staff_id=real.id)
    account.password_hash = passwords.hash_password(DEMO_PASSWORD)
    db_session.commit()
    production = test_settings.model_copy(update={"mode": "production",
                                                  "secret_key": "s" * 40})
    app_on_test_session.state.settings = production
    try:
        with TestClient(app_on_test_session) as client:
            for email in (demo_email("admin"), demo_email("team_manager"), real.email):
                answer = client.post("/api/v1/auth/token", data={"username": email,
                                                                 "password": DEMO_PASSWORD})
                assert answer.status_code == 400, (email, answer.text)
                assert answer.json()["error"] == "invalid_grant"
    finally:
        app_on_test_session.state.settings = test_settings


def test_production_will_not_start_while_demo_sign_ins_work(
    cli_database: str, test_settings: Settings
) -> None:
    engine = make_engine(cli_database)
    production = test_settings.model_copy(update={"mode": "production",
                                                  "secret_key": "s" * 40})
    try:
        assert demo_accounts_problem(engine, production) is None  # nothing to sign in with
        with Session(engine) as session:
            _newcomer(session, build_world(session))
            ensure_demo_accounts(session, test_settings)
            session.commit()
        problem = demo_accounts_problem(engine, production)
        assert problem is not None and "\n" not in problem
        assert "demo-" in problem and "@ringfence.example" in problem and "4 more" in problem
        assert "ringfence users deactivate-demo" in problem
        with pytest.raises(DemoAccountsLive, match="deactivate-demo"):
            check_demo_accounts(engine, production)
        assert demo_accounts_problem(engine, test_settings) is None  # development: fine
        switched = run("users", "deactivate-demo")
        assert switched.exit_code == 0, switched.output
        assert "Switched off 7 demo sign-ins" in switched.output
        assert demo_accounts_problem(engine, production) is None
        assert "No demo sign-ins" in run("users", "deactivate-demo").output
    finally:
        engine.dispose()
