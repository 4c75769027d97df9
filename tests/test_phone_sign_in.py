"""Residents sign in with a mobile number and a one-time code by SMS: the code's lifetime, single
use and attempts; the rate limits per number and per address; the console backend (codes only in
development); the Tencent Cloud adapter against a local stand-in of its SendSms endpoint."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import logging
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from sqlalchemy import func, select

from core import sms
from core.accounts import operations as accounts
from core.accounts.models import PhoneCode, Role, User
from core.db import utcnow
from core.errors import Invalid, Refused

PHONE = "13912345678"


def _last_code(app, phone=PHONE) -> str:
    sent = [m for m in sms.outbox(app) if m.phone == phone]
    assert sent, "the console backend sent nothing to this number"
    return sent[-1].code


def test_a_code_signs_a_new_resident_in_once(app, session):
    accounts.send_phone_code("+86 139-1234-5678", "192.0.2.1")
    code = _last_code(app)
    assert len(code) == 6 and code.isdigit()
    row = session.scalar(select(PhoneCode).where(PhoneCode.phone == PHONE))
    assert code not in row.code_hash and len(row.code_hash) == 64  # only a keyed hash is kept
    user, created = accounts.sign_in_by_phone(PHONE, code)
    assert created and user.login == PHONE and user.has_role(Role.RESIDENT) and user.community_id is None
    with pytest.raises(Invalid) as e:  # single use
        accounts.sign_in_by_phone(PHONE, code)
    assert e.value.field == "code"
    accounts.send_phone_code(PHONE, "192.0.2.1")
    again, created = accounts.sign_in_by_phone(PHONE, _last_code(app))
    assert not created and again.id == user.id
    assert session.scalar(select(func.count()).select_from(User).where(User.login == PHONE)) == 1


def test_a_code_lives_five_minutes(app, session):
    now = utcnow()
    accounts.send_phone_code(PHONE, "192.0.2.1", now=now)
    code = _last_code(app)
    with pytest.raises(Invalid):
        accounts.verify_phone_code(PHONE, code, now=now + dt.timedelta(minutes=5, seconds=1))
    accounts.send_phone_code(PHONE, "192.0.2.1", now=now)
    code = _last_code(app)
    assert accounts.verify_phone_code(PHONE, code, now=now + dt.timedelta(minutes=4, seconds=59)) == PHONE


def test_a_new_code_voids_the_previous_one(app, session):
    accounts.send_phone_code(PHONE, "192.0.2.1")
    first = _last_code(app)
    accounts.send_phone_code(PHONE, "192.0.2.1")
    second = _last_code(app)
    if first != second:
        with pytest.raises(Invalid):
            accounts.verify_phone_code(PHONE, first)
    assert accounts.verify_phone_code(PHONE, second) == PHONE


def test_five_wrong_codes_end_the_code(app, session):
    accounts.send_phone_code(PHONE, "192.0.2.1")
    code = _last_code(app)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    for n in range(accounts.CODE_ATTEMPTS):
        with pytest.raises(Invalid) as e:
            accounts.verify_phone_code(PHONE, wrong)
        assert e.value.code == ("code_attempts" if n == accounts.CODE_ATTEMPTS - 1 else "code_wrong")
    with pytest.raises(Invalid) as e:  # even the right code no longer works
        accounts.verify_phone_code(PHONE, code)
    assert e.value.code == "code_expired"


@pytest.mark.parametrize("raw", ["", "12345", "1234567", "abcdef"])
def test_a_malformed_code_is_refused_on_the_field(app, session, raw):
    accounts.send_phone_code(PHONE, "192.0.2.1")
    with pytest.raises(Invalid) as e:
        accounts.verify_phone_code(PHONE, raw)
    assert e.value.field == "code"


@pytest.mark.parametrize("raw", ["", "1234", "23912345678", "139123456789", "phone"])
def test_a_wrong_number_is_refused_and_nothing_is_sent(app, session, raw):
    before = len(sms.outbox(app))
    with pytest.raises(Invalid) as e:
        accounts.send_phone_code(raw, "192.0.2.1")
    assert e.value.field == "phone" and len(sms.outbox(app)) == before


def test_the_pages_sign_in_and_ask_the_community_once(app, client, session, community):
    page = client.get("/login/phone")
    assert page.status_code == 200 and 'name="phone"' in page.get_data(as_text=True)
    sent = client.post("/login/phone", data={"phone": PHONE})
    assert sent.status_code == 200 and "code-form" in sent.get_data(as_text=True)
    wrong = client.post("/login/phone/verify", data={"phone": PHONE, "code": "000000"
                                                     if _last_code(app) != "000000" else "111111"})
    assert wrong.status_code == 422 and 'aria-invalid="true"' in wrong.get_data(as_text=True)
    ok = client.post("/login/phone/verify", data={"phone": PHONE, "code": _last_code(app)})
    assert ok.status_code == 302 and ok.headers["Location"].endswith("/account/community")
    chosen = client.post("/account/community", data={"community_id": str(community.id)})
    assert chosen.status_code == 302
    assert session.scalar(select(User).where(User.login == PHONE)).community_id == community.id


def test_sign_in_goes_back_to_the_page_it_came_from(app, client, session):
    client.post("/login/phone", data={"phone": PHONE, "next": "/rate/1"})
    ok = client.post("/login/phone/verify", data={"phone": PHONE, "code": _last_code(app), "next": "/rate/1"})
    assert ok.status_code == 302 and ok.headers["Location"].endswith("/rate/1")
    client.post("/logout")
    evil = client.post("/login/phone", data={"phone": "13912345679", "next": "https://evil.example/"})
    assert "evil.example" not in evil.get_data(as_text=True)
    away = client.post("/login/phone/verify", data={"phone": "13912345679", "code": _last_code(app, "13912345679"),
                                                    "next": "https://evil.example/"})
    assert away.status_code == 302 and "evil.example" not in away.headers["Location"]


# --- rate limits -----------------------------------------------------------------------------------

def test_codes_are_limited_per_number(make_app):
    app = make_app(RATELIMIT_ENABLED=True, RATELIMIT_SMS_PHONE="2/hour", RATELIMIT_SMS_ADDRESS="100/hour")
    c = app.test_client()
    codes = [c.post("/login/phone", data={"phone": PHONE},
                    environ_base={"REMOTE_ADDR": f"198.51.100.{i}"}).status_code for i in range(3)]
    assert codes == [200, 200, 429]
    other = c.post("/login/phone", data={"phone": "13912345670"}, environ_base={"REMOTE_ADDR": "198.51.100.9"})
    assert other.status_code == 200
    assert len([m for m in sms.outbox(app) if m.phone == PHONE]) == 2


def test_codes_are_limited_per_address(make_app):
    app = make_app(RATELIMIT_ENABLED=True, RATELIMIT_SMS_PHONE="100/hour", RATELIMIT_SMS_ADDRESS="2/hour")
    c = app.test_client()
    codes = [c.post("/login/phone", data={"phone": f"1391234560{i}"},
                    environ_base={"REMOTE_ADDR": "203.0.113.5"}).status_code for i in range(3)]
    assert codes == [200, 200, 429]
    elsewhere = c.post("/login/phone", data={"phone": "13912345609"}, environ_base={"REMOTE_ADDR": "203.0.113.6"})
    assert elsewhere.status_code == 200


# --- the console backend ---------------------------------------------------------------------------

class _Lines(logging.Handler):
    def __init__(self):
        super().__init__(logging.DEBUG)
        self.lines = []

    def emit(self, record):
        self.lines.append(record.getMessage())


def _logged(app, send) -> str:
    handler = _Lines()
    app.logger.addHandler(handler)
    level = app.logger.level
    app.logger.setLevel(logging.DEBUG)
    try:
        with app.test_request_context():
            send()
    finally:
        app.logger.removeHandler(handler)
        app.logger.setLevel(level)
    return "\n".join(handler.lines)


def test_the_console_backend_shows_codes_in_development_only(make_app):
    dev = make_app()
    assert "424242" in _logged(dev, lambda: sms.send_code(PHONE, "424242", 5))
    assert sms.outbox(dev)[-1].code == "424242"
    prod = make_app(TESTING=False, DEBUG=False)
    text = _logged(prod, lambda: sms.send_code(PHONE, "535353", 5))
    assert "535353" not in text and "139****5678" in text
    assert not sms.outbox(prod)


def test_an_unknown_backend_stops_the_app(make_app):
    with pytest.raises(RuntimeError):
        make_app(SMS_BACKEND="pigeon")


# --- Tencent Cloud SMS against a local stand-in ------------------------------------------------------

SECRET_ID, SECRET_KEY = "AKIDtest0123456789", "test-secret-key-0123456789"


def _tc3_signature(secret_key, date, service, string_to_sign) -> str:
    def sign(key, msg):
        return hmac.new(key, msg.encode(), hashlib.sha256).digest()

    k = sign(sign(sign(("TC3" + secret_key).encode(), date), service), "tc3_request")
    return hmac.new(k, string_to_sign.encode(), hashlib.sha256).hexdigest()


class _StandIn(BaseHTTPRequestHandler):
    """Answers SendSms as Tencent Cloud does, after checking the TC3-HMAC-SHA256 signature."""

    requests: list  # set per server
    answer_code = "Ok"

    def log_message(self, *args):
        pass

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        record = {"headers": dict(self.headers), "body": json.loads(body), "problems": []}
        self.server.seen.append(record)
        auth = self.headers.get("Authorization", "")
        try:
            algo, rest = auth.split(" ", 1)
            parts = dict(p.strip().split("=", 1) for p in rest.split(","))
            _id, date, service, _term = parts["Credential"].split("/")
            signed = parts["SignedHeaders"].split(";")
            canonical_headers = "".join(f"{h}:{self.headers[h].strip()}\n" for h in signed)
            canonical = "\n".join(["POST", "/", "", canonical_headers, parts["SignedHeaders"],
                                   hashlib.sha256(body).hexdigest()])
            ts = self.headers["X-TC-Timestamp"]
            to_sign = "\n".join([algo, ts, f"{date}/{service}/tc3_request",
                                 hashlib.sha256(canonical.encode()).hexdigest()])
            if _id != SECRET_ID or parts["Signature"] != _tc3_signature(SECRET_KEY, date, service, to_sign):
                record["problems"].append("bad signature")
        except (KeyError, ValueError) as e:
            record["problems"].append(f"malformed Authorization: {e}")
        if record["problems"]:
            answer = {"Response": {"Error": {"Code": "AuthFailure.SignatureFailure", "Message": "bad"},
                                   "RequestId": "req-1"}}
        else:
            phones = record["body"].get("PhoneNumberSet", [])
            answer = {"Response": {"SendStatusSet": [
                {"SerialNo": "2028:1", "PhoneNumber": p, "Fee": 1, "SessionContext": "",
                 "Code": self.server.answer_code, "Message": "send success", "IsoCode": "CN"} for p in phones],
                "RequestId": "req-2"}}
        data = json.dumps(answer).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


@pytest.fixture
def stand_in():
    server = HTTPServer(("127.0.0.1", 0), _StandIn)
    server.seen, server.answer_code = [], "Ok"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    thread.join(5)


def _tencent_app(make_app, server, **kw):
    return make_app(SMS_BACKEND="tencent", SMS_TENCENT_ENDPOINT=f"http://127.0.0.1:{server.server_port}",
                    SMS_TENCENT_SECRET_ID=SECRET_ID, SMS_TENCENT_SECRET_KEY=SECRET_KEY,
                    SMS_TENCENT_APP_ID="1400000001", SMS_TENCENT_SIGN_NAME="惠民文化", SMS_TENCENT_TEMPLATE_ID="123456",
                    **kw)


TC_WARNINGS = "ignore:datetime.datetime.utcfromtimestamp:DeprecationWarning"


@pytest.mark.filterwarnings(TC_WARNINGS)
def test_the_tencent_adapter_sends_a_signed_send_sms(make_app, stand_in):
    app = _tencent_app(make_app, stand_in)
    with app.test_request_context():
        sms.send_code(PHONE, "246810", 5)
    (req,) = stand_in.seen
    assert req["problems"] == []
    assert req["headers"]["X-TC-Action"] == "SendSms" and req["headers"]["X-TC-Version"] == "2021-01-11"
    assert req["headers"]["X-TC-Region"] == "ap-guangzhou"
    assert req["body"]["PhoneNumberSet"] == ["+86" + PHONE]
    assert req["body"]["TemplateId"] == "123456" and req["body"]["TemplateParamSet"] == ["246810", "5"]
    assert req["body"]["SmsSdkAppId"] == "1400000001" and req["body"]["SignName"] == "惠民文化"


@pytest.mark.filterwarnings(TC_WARNINGS)
def test_the_tencent_adapter_reports_a_refusal(make_app, stand_in, caplog):
    stand_in.answer_code = "LimitExceeded.PhoneNumberDailyLimit"
    app = _tencent_app(make_app, stand_in)
    with app.test_request_context(), pytest.raises(sms.SmsError) as e:
        sms.send_code(PHONE, "246810", 5)
    assert "PhoneNumberDailyLimit" in str(e.value) and "246810" not in str(e.value)
    wrong_key = _tencent_app(make_app, stand_in, )
    wrong_key.extensions["huimin_sms"].secret_key = "not-the-key"
    with wrong_key.test_request_context(), pytest.raises(sms.SmsError) as e:
        sms.send_code(PHONE, "246810", 5)
    assert "AuthFailure" in str(e.value)
    assert stand_in.seen[-1]["problems"] == ["bad signature"]


@pytest.mark.filterwarnings(TC_WARNINGS)
def test_a_failed_send_is_refused_and_stores_no_code(make_app, stand_in, session):
    stand_in.answer_code = "FailedOperation.InsufficientBalanceInSmsPackage"
    app = _tencent_app(make_app, stand_in)
    c = app.test_client()
    resp = c.post("/login/phone", data={"phone": PHONE})
    assert resp.status_code == 503 and "phone-form" in resp.get_data(as_text=True)
    assert session.scalar(select(func.count()).select_from(PhoneCode).where(PhoneCode.used_at.is_(None))) == 0


def test_the_tencent_backend_needs_its_settings(make_app):
    with pytest.raises(RuntimeError) as e:
        make_app(SMS_BACKEND="tencent")
    assert "SMS_TENCENT_SECRET_ID" in str(e.value)


def test_no_code_is_audited(app, session):
    from core.audit import AuditEvent

    accounts.send_phone_code(PHONE, "192.0.2.1")
    code = _last_code(app)
    events = session.scalars(select(AuditEvent).order_by(AuditEvent.seq.desc()).limit(3)).all()
    assert all(code not in json.dumps(e.summary, ensure_ascii=False) for e in events)
    assert any(e.action == "phone_code.send" for e in events)
    assert Refused  # the refusal class stays importable for the 503 path above
