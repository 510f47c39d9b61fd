"""Signing in for the API: the OAuth2 password flow, bearer tokens, personal access tokens,
throttling, account administration and the audit trail they leave."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date, timedelta

import pytest
from fastapi import APIRouter, Depends, FastAPI
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from app.api.boundary import BoundaryRoute
from app.auth import accounts, authorize
from app.auth.access_index import build_index
from app.auth.install import AccessTableIncomplete, check_access_table
from app.auth.testing import all_access_token, make_staff, token_for_staff
from app.main import create_app
from app.models import Account, ApiToken, AuditEvent, Case, Staff
from app.models.base import utcnow
from app.settings import Settings
from tests.conftest import make_settings

PASSWORD = "a long enough passphrase"


@pytest.fixture
def anonymous(app_on_test_session: FastAPI) -> Iterator[TestClient]:
    with TestClient(app_on_test_session) as test_client:
        yield test_client


@pytest.fixture
def person(db_session: Session) -> Callable[..., Account]:
    """An account with a password, for a new staff member of the given role."""

    def make(role: str = "team_manager", email: str | None = None) -> Account:
        staff = make_staff(db_session, role, email=email)
        account = accounts.create_account(
            db_session, email=staff.email, staff_id=staff.id, password=PASSWORD
        )
        db_session.commit()
        return account

    return make


def sign_in(client: TestClient, email: str, password: str = PASSWORD, **extra: str):  # type: ignore[no-untyped-def]
    return client.post("/api/v1/auth/token", data={"username": email, "password": password,
                                                   **extra})


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def actions(db_session: Session) -> list[str]:
    return list(db_session.exec(select(AuditEvent.action).order_by(AuditEvent.id)).all())


def test_without_credentials_the_api_answers_401_with_a_bearer_challenge(
    anonymous: TestClient,
) -> None:
    response = anonymous.get("/api/v1/staff")
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    for header in ("Bearer", "Bearer not-a-token", "Basic dXNlcjpwYXNz", "Token abc"):
        response = anonymous.get("/api/v1/staff", headers={"Authorization": header})
        assert response.status_code == 401, header
        assert "invalid_token" in response.headers["www-authenticate"]


def test_password_flow_gives_an_expiring_bearer_token(
    anonymous: TestClient, person: Callable[..., Account], db_session: Session
) -> None:
    account = person("senior_manager", email="Ada.Manager@Example.org")
    response = sign_in(anonymous, "  ada.manager@EXAMPLE.org ")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["token_type"] == "bearer" and body["expires_in"] == 60 * 60
    assert response.headers["cache-control"] == "no-store"
    me = anonymous.get("/api/v1/me", headers=bearer(body["access_token"]))
    assert me.status_code == 200
    assert me.json()["role"] == "senior_manager"
    assert me.json()["staff_id"] == account.staff_id
    assert me.json()["scopes"] == ["read", "write"]
    # Stored as a digest, never as the token itself.
    stored = db_session.exec(select(ApiToken).where(ApiToken.account_id == account.id)).one()
    assert body["access_token"] not in (stored.token_hash, stored.prefix)
    stored.expires_at = utcnow() - timedelta(seconds=1)
    db_session.commit()
    assert anonymous.get("/api/v1/me", headers=bearer(body["access_token"])).status_code == 401


def test_a_read_only_token_cannot_change_anything(
    anonymous: TestClient, person: Callable[..., Account]
) -> None:
    person("admin", email="reader@example.org")
    token = sign_in(anonymous, "reader@example.org", scope="read").json()["access_token"]
    assert anonymous.get("/api/v1/teams", headers=bearer(token)).status_code == 200
    refused = anonymous.post("/api/v1/service-areas", json={"name": "North"},
                             headers=bearer(token))
    assert refused.status_code == 403
    assert sign_in(anonymous, "reader@example.org", scope="admin").status_code == 400


def test_wrong_password_unknown_email_and_switched_off_account_answer_alike(
    anonymous: TestClient, person: Callable[..., Account], db_session: Session
) -> None:
    person(email="known@example.org")
    off = person(email="off@example.org")
    accounts.set_active(db_session, off, False, actor_id=None)
    leaver = person(email="leaver@example.org")
    staff = db_session.get(Staff, leaver.staff_id)
    assert staff is not None
    staff.leave_date = date(2020, 1, 2)
    db_session.commit()
    answers = [
        sign_in(anonymous, "known@example.org", "not the password at all"),
        sign_in(anonymous, "nobody@example.org"),
        sign_in(anonymous, "off@example.org"),
        sign_in(anonymous, "leaver@example.org"),
    ]
    assert {a.status_code for a in answers} == {400}
    assert len({a.text for a in answers}) == 1
    assert answers[0].json()["error"] == "invalid_grant"


def test_signing_out_revokes_the_token(
    anonymous: TestClient, person: Callable[..., Account], db_session: Session
) -> None:
    person(email="leaving@example.org")
    token = sign_in(anonymous, "leaving@example.org").json()["access_token"]
    assert anonymous.post("/api/v1/auth/revoke", headers=bearer(token)).status_code == 204
    assert anonymous.get("/api/v1/me", headers=bearer(token)).status_code == 401
    assert "token.revoke" in actions(db_session)


def test_personal_access_tokens_are_shown_once_scoped_and_revocable(
    anonymous: TestClient, person: Callable[..., Account], db_session: Session
) -> None:
    person("admin", email="integrator@example.org")
    session_token = sign_in(anonymous, "integrator@example.org").json()["access_token"]
    created = anonymous.post("/api/v1/me/tokens", json={"name": "reporting", "scopes": ["read"]},
                             headers=bearer(session_token))
    assert created.status_code == 201, created.text
    secret = created.json()["token"]
    assert secret.startswith("rfp_") and created.json()["prefix"] == secret[:10]
    listed = anonymous.get("/api/v1/me/tokens", headers=bearer(session_token)).json()["data"]
    assert [t["name"] for t in listed] == ["reporting"]
    assert "token" not in listed[0]
    assert secret not in str(listed)
    # The personal token works, read-only, and cannot mint another token.
    assert anonymous.get("/api/v1/teams", headers=bearer(secret)).status_code == 200
    assert anonymous.post("/api/v1/teams", json={"name": "X", "service_area_id": 1},
                          headers=bearer(secret)).status_code == 403
    write = anonymous.post("/api/v1/me/tokens", json={"name": "more", "scopes": ["read", "write"]},
                           headers=bearer(session_token)).json()["token"]
    assert anonymous.post("/api/v1/me/tokens", json={"name": "again"},
                          headers=bearer(write)).status_code == 403
    # Revoked: it stops at once; someone else's token cannot be revoked (or seen).
    token_id = created.json()["id"]
    other = token_for_staff(db_session, make_staff(db_session, "nqsw"))
    db_session.commit()
    assert anonymous.delete(f"/api/v1/me/tokens/{token_id}",
                            headers=bearer(other)).status_code == 404
    assert anonymous.delete(f"/api/v1/me/tokens/{token_id}",
                            headers=bearer(session_token)).status_code == 204
    assert anonymous.get("/api/v1/teams", headers=bearer(secret)).status_code == 401
    assert "token.create" in actions(db_session) and "token.revoke" in actions(db_session)


def test_sign_in_and_failure_are_audited(
    anonymous: TestClient, person: Callable[..., Account], db_session: Session
) -> None:
    account = person(email="audited@example.org")
    sign_in(anonymous, "audited@example.org", "wrong wrong wrong")
    sign_in(anonymous, "audited@example.org")
    events = db_session.exec(
        select(AuditEvent).where(AuditEvent.action.in_(["auth.login", "auth.login_failed"]))  # type: ignore[attr-defined]
        .order_by(AuditEvent.id)
    ).all()
    assert [e.action for e in events] == ["auth.login_failed", "auth.login"]
    assert events[0].after["reason"] == "bad_credentials"
    assert events[1].actor_id == account.staff_id
    assert PASSWORD not in str([e.after for e in events])


def test_admins_manage_accounts_and_role_changes_are_audited(
    client_as: Callable[..., TestClient], db_session: Session
) -> None:
    admin = client_as("admin")
    worker = make_staff(db_session, "social_worker", email="worker@example.org")
    db_session.commit()
    created = admin.post("/api/v1/accounts", json={"email": "worker@example.org"})
    assert created.status_code == 201, created.text
    # No password: the person is emailed a link to choose their own.
    assert created.json()["staff_id"] == worker.id and not created.json()["has_password"]
    account_id = created.json()["id"]
    duplicate = admin.post("/api/v1/accounts", json={"email": "Worker@example.org"})
    assert duplicate.status_code == 409
    token = token_for_staff(db_session, worker)
    db_session.commit()
    with TestClient(admin.app) as person_client:
        assert person_client.get("/api/v1/me", headers=bearer(token)).json()["role"] == (
            "social_worker")
        promoted = admin.patch(f"/api/v1/accounts/{account_id}", json={"role": "team_manager"})
        assert promoted.status_code == 200 and promoted.json()["role"] == "team_manager"
        change = db_session.exec(
            select(AuditEvent).where(AuditEvent.action == "account.role_change")
        ).one()
        assert (change.before, change.after) == ({"role": "social_worker"},
                                                 {"role": "team_manager"})
        revoked = db_session.exec(select(AuditEvent).where(
            AuditEvent.action == "token.revoke")).one()
        assert revoked.after["reason"] == "role_change"
        # The token issued under the old role ends with it: sign in again as who you are.
        assert person_client.get("/api/v1/me", headers=bearer(token)).status_code == 401
        fresh = token_for_staff(db_session, worker)
        db_session.commit()
        assert person_client.get("/api/v1/me", headers=bearer(fresh)).json()["role"] == (
            "team_manager")
        switched_off = admin.patch(f"/api/v1/accounts/{account_id}", json={"is_active": False})
        assert switched_off.status_code == 200
        assert person_client.get("/api/v1/me", headers=bearer(fresh)).status_code == 401
    listed = admin.get("/api/v1/accounts").json()
    assert any(a["email"] == "worker@example.org" and not a["is_active"] for a in listed["data"])


def test_an_admin_cannot_lock_themselves_out(
    client_as: Callable[..., TestClient], db_session: Session
) -> None:
    staff = make_staff(db_session, "admin")
    admin = client_as(staff)
    own = admin.get("/api/v1/me").json()["account_id"]
    assert admin.patch(f"/api/v1/accounts/{own}", json={"is_active": False}).status_code == 422
    assert admin.patch(f"/api/v1/accounts/{own}", json={"role": "nqsw"}).status_code == 422


def test_a_change_cannot_be_recorded_in_someone_elses_name(
    client_as: Callable[..., TestClient], db_session: Session
) -> None:
    senior = make_staff(db_session, "senior_manager")
    worker = make_staff(db_session, "social_worker")
    case = Case(reference="ELSEWHERE-1", category="child_in_need", complexity=2,
                opened_on=date(2026, 1, 5))
    db_session.add(case)
    db_session.commit()
    manager = client_as("team_manager")
    me = manager.get("/api/v1/me").json()["staff_id"]
    body = {"case_id": case.id, "worker_id": worker.id}
    for field in ("actor_id", "allocated_by_id"):
        response = manager.post("/api/v1/allocations", json={**body, field: senior.id})
        assert response.status_code == 403, field
        assert response.json()["detail"] == [{
            "loc": ["body", field],
            "msg": f"{field} names someone else: a change is recorded in the name of the "
                   f"person signed in, so leave {field} out",
            "type": "forbidden"}]
    # Naming oneself is fine: then the rules on the case and worker apply (out of reach).
    mine = manager.post("/api/v1/allocations", json={**body, "actor_id": me})
    assert mine.status_code == 403
    assert mine.json()["detail"][0]["loc"] == ["body", "case_id"]


def test_bad_ids_in_a_path_or_body_are_422_not_500(client_as: Callable[..., TestClient]) -> None:
    manager = client_as("team_manager")
    assert manager.get("/api/v1/cases/not-a-number").status_code == 422
    response = manager.post("/api/v1/allocations", json={"case_id": "x", "worker_id": 1})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "case_id"]
    assert manager.post("/api/v1/allocations", json={"worker_id": 1}).status_code == 422


def test_all_access_is_ignored_in_production_mode(fresh_database_url: str, tmp_path) -> None:  # type: ignore[no-untyped-def]
    settings = Settings(  # type: ignore[call-arg]
        mode="production", database_url=fresh_database_url, data_dir=tmp_path,
        secret_key="x" * 40, scheduler_enabled=False,
    )
    app = create_app(settings)
    try:
        with Session(app.state.engine) as session:
            token = all_access_token(session)
            session.commit()
        with TestClient(app) as test_client:
            response = test_client.post("/api/v1/service-areas", json={"name": "North"},
                                        headers=bearer(token))
            assert response.status_code == 403
    finally:
        app.state.engine.dispose()


def _app_with_unruled_route(settings: Settings) -> FastAPI:
    app = create_app(settings)
    router = APIRouter(prefix="/api/v1", dependencies=[Depends(authorize)],
                       route_class=BoundaryRoute)

    @router.get("/unruled")
    def unruled() -> dict[str, str]:
        return {"reached": "yes"}

    app.include_router(router)
    return app


def test_production_refuses_to_start_with_a_route_that_has_no_rule(tmp_path) -> None:  # type: ignore[no-untyped-def]
    settings = make_settings(f"sqlite:///{tmp_path / 'x.db'}", tmp_path)
    app = _app_with_unruled_route(settings)
    assert build_index(app).missing == ["GET /api/v1/unruled"]
    production = settings.model_copy(update={"mode": "production"})
    with pytest.raises(AccessTableIncomplete, match="GET /api/v1/unruled"):
        check_access_table(app, production)
    app.state.engine.dispose()


def test_a_route_without_a_rule_is_refused(
    test_settings: Settings, db_session: Session
) -> None:
    from app.db import get_session

    app = _app_with_unruled_route(test_settings)

    def _session() -> Iterator[Session]:
        yield db_session

    app.dependency_overrides[get_session] = _session
    manager = token_for_staff(db_session, make_staff(db_session, "asye_coordinator"))
    with TestClient(app) as test_client:
        assert test_client.get("/api/v1/unruled", headers=bearer(manager)).status_code == 403
        # Only the test suite's all-access principal passes, so other tests keep working.
        everything = all_access_token(db_session)
        assert test_client.get("/api/v1/unruled", headers=bearer(everything)).status_code == 200
    app.state.engine.dispose()


def test_a_token_from_the_password_flow_is_audited(
    anonymous: TestClient, person: Callable[..., Account], db_session: Session
) -> None:
    account = person(email="tokened@example.org")
    answer = sign_in(anonymous, "tokened@example.org", scope="read")
    assert answer.status_code == 200
    (event,) = db_session.exec(select(AuditEvent).where(AuditEvent.action == "token.create")).all()
    token = db_session.exec(select(ApiToken).where(ApiToken.account_id == account.id)).one()
    assert event.entity_id == str(token.id) and event.actor_id == account.staff_id
    assert event.after["kind"] == "access" and event.after["scopes"] == "read"
    assert answer.json()["access_token"] not in str(event.after)


def test_personal_tokens_always_expire_within_a_year(
    anonymous: TestClient, person: Callable[..., Account]
) -> None:
    person("admin", email="integrations@example.org")
    session_token = sign_in(anonymous, "integrations@example.org").json()["access_token"]
    for days in (None, 0, 366):
        refused = anonymous.post("/api/v1/me/tokens", json={"name": "forever",
                                                            "expires_in_days": days},
                                 headers=bearer(session_token))
        assert refused.status_code == 422, days
        assert refused.json()["detail"][0]["loc"] == ["body", "expires_in_days"]
    made = anonymous.post("/api/v1/me/tokens", json={"name": "a year", "expires_in_days": 365},
                          headers=bearer(session_token))
    assert made.status_code == 201
    lasts = made.json()["expires_at"]
    assert lasts is not None and lasts[:10] == (utcnow() + timedelta(days=365)).date().isoformat()
    default = anonymous.post("/api/v1/me/tokens", json={"name": "default"},
                             headers=bearer(session_token)).json()
    assert default["expires_at"][:10] == (utcnow() + timedelta(days=90)).date().isoformat()


def test_production_warns_when_cookies_are_not_secure(
    test_settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    from app.auth.install import check_production_settings

    production = test_settings.model_copy(update={"mode": "production"})
    with caplog.at_level("WARNING", logger="ringfence.auth"):
        check_production_settings(production)
        check_production_settings(production.model_copy(update={"secure_cookies": True}))
        check_production_settings(test_settings)
    warned = [r.message for r in caplog.records if "RINGFENCE_SECURE_COOKIES" in r.message]
    assert len(warned) == 1 and "HTTPS" in warned[0]
