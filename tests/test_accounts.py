"""Accounts: login names, the password rule, hashing, throttling, sessions, API tokens."""

import datetime as dt

import pytest
import time_machine
from sqlalchemy import func, select

from core.accounts import operations as accounts
from core.accounts.models import ApiToken, LoginAttempt, User
from core.audit import AuditEvent
from core.errors import Invalid
from tests.support.accounts import PASSWORD
from tests.support.pages import html_text


@pytest.mark.parametrize("raw,expected", [
    ("Someone@Example.ORG", "someone@example.org"),
    ("138 0013 8000", "13800138000"),
    ("+8613800138000", "13800138000"),
])
def test_login_names_are_normalised(app, raw, expected):
    with app.app_context():
        assert accounts.normalise_login(raw) == expected


@pytest.mark.parametrize("raw", ["12800138000", "1380013800", "not-an-email", "a@b", "23800138000", ""])
def test_malformed_login_names_are_refused(app, raw):
    with app.app_context(), pytest.raises(Invalid) as e:
        accounts.normalise_login(raw)
    assert e.value.field == "login"


@pytest.mark.parametrize("password", ["short1!", "1234567890", "qwertyuiop", "aaaaaaaaaaaa", "password123"])
def test_weak_passwords_are_refused(app, password):
    with app.app_context(), pytest.raises(Invalid) as e:
        accounts.check_password_rule(password)
    assert e.value.field == "password"


def test_password_is_hashed_with_argon2(make_user):
    user = make_user("resident")
    assert user.password_hash.startswith("$argon2id$")
    assert PASSWORD not in user.password_hash


def test_login_and_fresh_session(client, make_user):
    user = make_user("resident")
    with client.session_transaction() as s:
        s["planted"] = "before-login"
    resp = client.post("/login", data={"login": user.login, "password": PASSWORD})
    assert resp.status_code == 302
    with client.session_transaction() as s:
        assert "planted" not in s, "login must start a fresh session"
        assert s["_user_id"] == user.get_id()


def test_wrong_login_gives_no_hint(client, make_user):
    user = make_user("resident")
    wrong_password = client.post("/login", data={"login": user.login, "password": "Wrong-Password-1"})
    unknown_user = client.post("/login", data={"login": "nobody@example.org", "password": PASSWORD})
    assert wrong_password.status_code == unknown_user.status_code == 401
    msg_a, msg_b = html_text(wrong_password), html_text(unknown_user)
    assert "登录名或密码错误" in msg_a and "登录名或密码错误" in msg_b


def test_login_and_address_pair_is_throttled_after_repeated_failures(client, make_user, session):
    user = make_user("resident")
    for _ in range(accounts.MAX_FAILURES_PER_PAIR):
        assert client.post("/login", data={"login": user.login, "password": "Wrong-Password-1"}).status_code == 401
    locked = client.post("/login", data={"login": user.login, "password": PASSWORD})
    assert locked.status_code == 429
    assert "分钟后再试" in html_text(locked)
    # After the window the right password works again and clears the count.
    with time_machine.travel(dt.datetime.now(dt.UTC) + accounts.THROTTLE_WINDOW + dt.timedelta(seconds=5)):
        assert client.post("/login", data={"login": user.login, "password": PASSWORD}).status_code == 302
    assert session.scalar(select(func.count()).select_from(LoginAttempt).where(LoginAttempt.login == user.login)) == 0


def test_address_locks_after_many_failures_across_accounts(client, make_user):
    user = make_user("resident")
    for i in range(accounts.MAX_FAILURES_PER_ADDRESS):
        client.post("/login", data={"login": f"guess{i}@example.org", "password": "Wrong-Password-1"})
    assert client.post("/login", data={"login": user.login, "password": PASSWORD}).status_code == 429


def test_registration(client, community, session):
    resp = client.post("/register", data={"name": "王芳", "login": "13912345678", "community_id": community.id,
                                          "password": "Lantern-Festival-9", "confirm": "Lantern-Festival-9"})
    assert resp.status_code == 302
    user = session.scalar(select(User).where(User.login == "13912345678"))
    assert user.roles == {"resident"} and user.community_id == community.id


@pytest.mark.parametrize("data,message", [
    ({"login": "bad-email@", "password": "Lantern-Festival-9"}, "有效的电子邮箱"),
    ({"login": "new@example.org", "password": "1234567890"}, "过于常见"),
    ({"login": "new@example.org", "password": "short"}, "至少需要 10"),
])
def test_registration_bad_input_changes_nothing(client, community, session, data, message):
    before = session.scalar(select(func.count()).select_from(User))
    form = {"name": "王芳", "community_id": community.id, "confirm": data["password"], **data}
    resp = client.post("/register", data=form)
    assert resp.status_code == 422
    assert message in html_text(resp)
    assert session.scalar(select(func.count()).select_from(User)) == before


def test_duplicate_registration_is_refused(client, community, make_user):
    existing = make_user("resident", login="taken@example.org")
    resp = client.post("/register", data={"name": "x", "login": existing.login.upper(), "community_id": community.id,
                                          "password": "Lantern-Festival-9", "confirm": "Lantern-Festival-9"})
    assert resp.status_code == 422
    assert "已被注册" in html_text(resp)


def test_disabling_a_user_ends_their_sessions_and_tokens(app, client, make_user, login, token_for, session):
    admin = make_user("admin")
    victim = make_user("resident")
    login(victim)
    headers = token_for(victim)
    assert client.get("/inbox").status_code == 200
    assert client.get("/api/v1/me", headers=headers).status_code == 200

    other = app.test_client()
    assert other.post("/login", data={"login": admin.login, "password": PASSWORD}).status_code == 302
    assert other.post(f"/admin/users/{victim.id}/active", data={"active": "0"}).status_code == 302

    assert client.get("/inbox").status_code == 302  # back to the login page
    assert client.get("/api/v1/me", headers=headers).status_code == 401
    assert session.scalar(select(func.count()).select_from(ApiToken).where(ApiToken.user_id == victim.id)) == 0
    assert session.scalar(select(AuditEvent).where(AuditEvent.action == "user.disable")).object_id == str(victim.id)


def test_token_issue_and_use(client, make_user):
    user = make_user("officer")
    resp = client.post("/api/v1/tokens", json={"username": user.login, "password": PASSWORD})
    assert resp.status_code == 201
    body = resp.get_json()
    assert body["token_type"] == "Bearer" and body["expires_at"]
    me = client.get("/api/v1/me", headers={"Authorization": "Bearer " + body["token"]})
    assert me.get_json()["login"] == user.login and me.get_json()["roles"] == ["officer"]


def test_token_errors_have_one_shape(client, make_user):
    user = make_user("resident")
    bad = client.post("/api/v1/tokens", json={"username": user.login, "password": "nope-nope-nope"})
    assert bad.status_code == 401
    assert set(bad.get_json()["error"]) == {"code", "message", "fields"}
    missing = client.post("/api/v1/tokens", json={"username": user.login})
    assert missing.status_code == 422
    assert "password" in missing.get_json()["error"]["fields"]
    not_json = client.post("/api/v1/tokens", data="x", content_type="text/plain")
    assert not_json.status_code == 422


def test_expired_and_forged_tokens_are_refused(client, make_user, token_for):
    user = make_user("resident")
    headers = token_for(user)
    forged = client.get("/api/v1/me", headers={"Authorization": "Bearer forged-token-value"})
    assert forged.status_code == 401
    assert forged.get_json()["error"]["code"] == "unauthorized"
    later = dt.datetime.now(dt.UTC) + dt.timedelta(hours=app_hours(client) + 1)
    with time_machine.travel(later):
        assert client.get("/api/v1/me", headers=headers).status_code == 401


def app_hours(client):
    return client.application.config["API_TOKEN_HOURS"]


def test_password_change_ends_other_sessions(app, client, make_user, login):
    user = make_user("resident")
    other = app.test_client()
    assert other.post("/login", data={"login": user.login, "password": PASSWORD}).status_code == 302
    login(user)
    resp = client.post("/account/password", data={"current": PASSWORD, "password": "Another-Strong-77",
                                                   "confirm": "Another-Strong-77"})
    assert resp.status_code == 302
    assert client.get("/inbox").status_code == 200
    assert other.get("/inbox").status_code == 302


def test_cli_creates_first_admin(app, session):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["users", "create", "root@example.org", "--role", "admin"],
                           input="Cli-Admin-Pass-1\n")
    assert result.exit_code == 0, result.output
    user = session.scalar(select(User).where(User.login == "root@example.org"))
    assert user.roles == {"admin"}
    weak = runner.invoke(args=["users", "create", "root2@example.org", "--role", "admin"], input="12345\n")
    assert weak.exit_code != 0 and "password" in weak.output
