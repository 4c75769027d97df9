"""Sessions that end: logout, a password change, disabling a user and an administrator's
"sign out everywhere" end every copy of the session cookie, whichever server it is shown to."""

from sqlalchemy import select

from core.audit import AuditEvent
from tests.support.accounts import PASSWORD


def _copy_of(app, client):
    """A second client holding the same session cookie, as a thief or a second tab would."""
    other = app.test_client()
    cookie = client.get_cookie(app.config.get("SESSION_COOKIE_NAME", "session"))
    assert cookie is not None
    other.set_cookie(cookie.key, cookie.value)
    return other


def test_a_copied_cookie_is_refused_after_logout(app, client, make_user, login):
    user = make_user("officer")
    login(user)
    copy = _copy_of(app, client)
    assert copy.get("/dashboard").status_code == 200
    assert client.post("/logout").status_code == 302
    resp = copy.get("/dashboard")
    assert resp.status_code == 302 and "/login" in resp.headers["Location"]
    assert client.get("/dashboard").status_code == 302
    # Signing in again afterwards works.
    login(user)
    assert client.get("/dashboard").status_code == 200


def test_logout_leaves_api_tokens_alone(app, client, make_user, login, token_for):
    user = make_user("officer")
    headers = token_for(user)
    login(user)
    client.post("/logout")
    assert app.test_client().get("/api/v1/me", headers=headers).status_code == 200


def test_password_change_keeps_this_browser_and_ends_the_copy(app, client, make_user, login):
    user = make_user("officer")
    login(user)
    copy = _copy_of(app, client)
    assert copy.get("/dashboard").status_code == 200
    resp = client.post("/account/password", data={"current": PASSWORD, "password": "Another-Strong-77",
                                                   "confirm": "Another-Strong-77"})
    assert resp.status_code == 302
    assert client.get("/dashboard").status_code == 200
    assert copy.get("/dashboard").status_code == 302


def test_disabling_a_user_ends_their_sessions_and_tokens(app, client, make_user, login, token_for, session):
    admin = make_user("admin")
    victim = make_user("officer")
    headers = token_for(victim)
    theirs = app.test_client()
    assert theirs.post("/login", data={"login": victim.login, "password": PASSWORD}).status_code == 302
    assert theirs.get("/dashboard").status_code == 200
    assert app.test_client().get("/api/v1/me", headers=headers).status_code == 200
    login(admin)
    assert client.post(f"/admin/users/{victim.id}/active", data={"active": "0"}).status_code == 302
    assert theirs.get("/dashboard").status_code == 302
    assert app.test_client().get("/api/v1/me", headers=headers).status_code == 401


def test_admin_signs_a_user_out_everywhere(app, client, make_user, login, token_for, session):
    admin = make_user("admin")
    victim = make_user("officer")
    headers = token_for(victim)
    theirs = app.test_client()
    assert theirs.post("/login", data={"login": victim.login, "password": PASSWORD}).status_code == 302
    copy = _copy_of(app, theirs)
    login(admin)
    page = client.get(f"/admin/users/{victim.id}")
    assert page.status_code == 200
    assert f"/admin/users/{victim.id}/sessions/end" in page.get_data(as_text=True)
    resp = client.post(f"/admin/users/{victim.id}/sessions/end")
    assert resp.status_code == 302
    assert theirs.get("/dashboard").status_code == 302
    assert copy.get("/dashboard").status_code == 302
    assert app.test_client().get("/api/v1/me", headers=headers).status_code == 401
    # The administrator's own session is untouched; the act is audited.
    assert client.get("/inbox").status_code == 200
    event = session.scalar(select(AuditEvent).where(AuditEvent.action == "user.sessions_end"))
    assert event.object_id == str(victim.id) and event.actor_id == admin.id
    # The user can sign in again.
    assert theirs.post("/login", data={"login": victim.login, "password": PASSWORD}).status_code == 302
    assert theirs.get("/dashboard").status_code == 200


def test_only_an_admin_signs_others_out(client, make_user, login):
    victim = make_user("resident")
    login(make_user("officer"))
    assert client.post(f"/admin/users/{victim.id}/sessions/end").status_code in (403, 404)
