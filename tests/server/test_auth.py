"""Passwords, tokens, browser sessions, CSRF."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select


def test_token_roundtrip_and_revocation(client, make):
    make.user("alice", password="a long passphrase")
    r = client.post("/api/v1/auth/tokens", json={"username": "alice", "password": "a long passphrase"})
    assert r.status_code == 201 and r.json["token"].startswith("hlm_")
    headers = {"Authorization": f"Bearer {r.json['token']}"}
    assert client.get("/api/v1/auth/me", headers=headers).json["username"] == "alice"
    assert client.delete(f"/api/v1/auth/tokens/{r.json['id']}", headers=headers).status_code == 200
    denied = client.get("/api/v1/auth/me", headers=headers)
    assert denied.status_code == 401 and denied.json["error"] == "unauthenticated"


def test_tokens_and_passwords_are_stored_hashed(app, client, make):
    make.user("bob", password="another passphrase")
    token = client.post("/api/v1/auth/tokens", json={"username": "bob", "password": "another passphrase"}).json
    from server import db
    from server.models import ApiToken, User

    with app.app_context():
        s = db.session()
        stored = s.execute(select(ApiToken.token_hash)).scalars().all()
        user = s.execute(select(User).where(User.username == "bob")).scalar_one()
    assert token["token"] not in stored and len(stored[0]) == 64
    assert "another passphrase" not in user.password_hash


@pytest.mark.parametrize("body, status, code", [
    ({"username": "carol", "password": "wrong password"}, 401, "unauthenticated"),
    ({"username": "nobody", "password": "whatever it is"}, 401, "unauthenticated"),
    ({"username": "carol"}, 400, "missing_field"),
    ("not an object", 400, "invalid_json"),
])
def test_bad_token_requests(client, make, body, status, code):
    make.user("carol", password="carols passphrase")
    r = client.post("/api/v1/auth/tokens", json=body)
    assert r.status_code == status and r.json["error"] == code


def test_invalid_json_body(client, admin_headers):
    r = client.post("/api/v1/projects", data="{not json", headers={**admin_headers,
                                                                   "Content-Type": "application/json"})
    assert r.status_code == 400 and r.json["error"] == "invalid_json"


def test_no_credentials(client):
    r = client.get("/api/v1/projects")
    assert r.status_code == 401 and r.json["error"] == "unauthenticated"
    assert client.get("/api/v1/projects", headers={"Authorization": "Bearer hlm_forged"}).status_code == 401


def _csrf(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def test_browser_login_csrf_and_logout(client, make):
    make.user("dana", password="danas passphrase")
    page = client.get("/login")
    assert page.status_code == 200
    no_csrf = client.post("/login", data={"username": "dana", "password": "danas passphrase"})
    assert no_csrf.status_code == 403
    r = client.post("/login", data={"username": "dana", "password": "danas passphrase",
                                    "csrf_token": _csrf(page.get_data(as_text=True))})
    assert r.status_code == 302
    cookie = client.get_cookie("session")
    assert cookie.http_only and cookie.same_site == "Lax"
    home = client.get("/")
    assert home.status_code == 200 and "dana" in home.get_data(as_text=True)
    # state-changing API calls on a cookie session need the CSRF header
    assert client.post("/api/v1/projects", json={"name": "x"}).status_code == 403
    token = _csrf(home.get_data(as_text=True))
    assert client.post("/api/v1/projects", json={"name": "x"}, headers={"X-CSRF-Token": token}).status_code == 403
    assert client.post("/logout", data={"csrf_token": token}).status_code == 302
    assert client.get("/").status_code == 302


def test_wrong_password_page(client, make):
    make.user("erin", password="erins passphrase")
    page = client.get("/login")
    r = client.post("/login", data={"username": "erin", "password": "nope nope",
                                    "csrf_token": _csrf(page.get_data(as_text=True))})
    assert r.status_code == 401 and "wrong username or password" in r.get_data(as_text=True)


def test_session_expires(app, make):
    from datetime import timedelta

    assert app.config["PERMANENT_SESSION_LIFETIME"] == timedelta(minutes=30)
    assert app.config["SESSION_COOKIE_HTTPONLY"] is True


def test_secure_cookie_by_default(tmp_path, sqlite_template):
    from server import create_app

    app = create_app({"INSTANCE_PATH": str(tmp_path), "DATABASE_URL": f"sqlite:///{sqlite_template}",
                      "AUTO_MIGRATE": False})
    assert app.config["SESSION_COOKIE_SECURE"] is True


def test_logins_are_audited(app, client, make):
    make.user("fay", password="fays passphrase")
    client.post("/api/v1/auth/tokens", json={"username": "fay", "password": "fays passphrase"})
    client.post("/api/v1/auth/tokens", json={"username": "fay", "password": "bad"})
    from server import db
    from server.models import AuditEvent

    with app.app_context():
        actions = db.session().execute(select(AuditEvent.action).where(AuditEvent.actor == "user:fay")).scalars()
        assert {"login", "login.failed"} <= set(actions)
