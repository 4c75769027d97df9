"""Sending SMS: one interface, chosen by the `SMS_BACKEND` setting.

- `console` (the default, for the demo and tests): writes the message to the app log. The code itself
  appears only in development (debug or testing); in production the log says a code was sent, never
  which. In development the last messages are also kept on the app (`outbox(app)`) so that a test
  can read them.
- `tencent`: Tencent Cloud SMS (SendSms, API 2021-01-11) through `tencentcloud-sdk-python-sms`. Its
  endpoint is a setting (`SMS_TENCENT_ENDPOINT`, e.g. `https://sms.tencentcloudapi.com`), so tests
  run it against a local stand-in of the service.

A backend is registered on the app in `init_app(app)`; nothing is kept at module level.
"""

from __future__ import annotations

import collections
from dataclasses import dataclass
from urllib.parse import urlsplit

from flask import current_app

OUTBOX_SIZE = 50


class SmsError(Exception):
    """The message could not be sent (the provider refused it, or could not be reached)."""


@dataclass(frozen=True)
class SentMessage:
    phone: str  # 11-digit mainland number
    code: str
    minutes: int


def masked(phone: str) -> str:
    """138****8000: enough for a log line, not enough to find the person."""
    return phone[:3] + "****" + phone[-4:] if len(phone) >= 8 else "****"


def shows_codes(app) -> bool:
    """Codes may be shown (log, outbox) in development and tests only, never in production."""
    return bool(app.debug or app.testing)


class ConsoleBackend:
    """The demo's and tests' SMS: the message goes to the log (the code only in development)."""

    name = "console"

    def send_code(self, phone: str, code: str, minutes: int) -> None:
        app = current_app._get_current_object()
        if shows_codes(app):
            app.logger.warning("SMS to %s: 验证码 %s，%d 分钟内有效。", phone, code, minutes)
            app.extensions["huimin_sms_outbox"].append(SentMessage(phone, code, minutes))
        else:
            app.logger.info("SMS sign-in code sent to %s (the code is not logged outside development)",
                            masked(phone))


class TencentBackend:
    """Tencent Cloud SMS: SendSms with the sign-in template (its parameters: the code, the minutes)."""

    name = "tencent"

    def __init__(self, config):
        self.secret_id = config.get("SMS_TENCENT_SECRET_ID") or ""
        self.secret_key = config.get("SMS_TENCENT_SECRET_KEY") or ""
        self.app_id = config.get("SMS_TENCENT_APP_ID") or ""
        self.sign_name = config.get("SMS_TENCENT_SIGN_NAME") or ""
        self.template_id = config.get("SMS_TENCENT_TEMPLATE_ID") or ""
        self.region = config.get("SMS_TENCENT_REGION") or "ap-guangzhou"
        self.endpoint = config.get("SMS_TENCENT_ENDPOINT") or "https://sms.tencentcloudapi.com"
        self.timeout = int(config.get("SMS_TENCENT_TIMEOUT") or 10)
        missing = [k for k, v in (("SMS_TENCENT_SECRET_ID", self.secret_id), ("SMS_TENCENT_SECRET_KEY",
                                   self.secret_key), ("SMS_TENCENT_APP_ID", self.app_id),
                                  ("SMS_TENCENT_SIGN_NAME", self.sign_name),
                                  ("SMS_TENCENT_TEMPLATE_ID", self.template_id)) if not v]
        if missing:
            raise RuntimeError("SMS_BACKEND=tencent needs " + ", ".join(missing))

    def _client(self):
        from tencentcloud.common import credential
        from tencentcloud.common.profile.client_profile import ClientProfile
        from tencentcloud.common.profile.http_profile import HttpProfile
        from tencentcloud.sms.v20210111 import sms_client

        url = urlsplit(self.endpoint if "://" in self.endpoint else "https://" + self.endpoint)
        http = HttpProfile(protocol=url.scheme, endpoint=url.netloc, reqTimeout=self.timeout)
        profile = ClientProfile(signMethod="TC3-HMAC-SHA256", httpProfile=http)
        profile.disable_region_breaker = True
        return sms_client.SmsClient(credential.Credential(self.secret_id, self.secret_key), self.region, profile)

    def send_code(self, phone: str, code: str, minutes: int) -> None:
        from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException
        from tencentcloud.sms.v20210111 import models

        req = models.SendSmsRequest()
        req.SmsSdkAppId = self.app_id
        req.SignName = self.sign_name
        req.TemplateId = self.template_id
        req.TemplateParamSet = [code, str(minutes)]
        req.PhoneNumberSet = ["+86" + phone]
        try:
            resp = self._client().SendSms(req)
        except TencentCloudSDKException as e:
            # The SDK's message never carries the code; the request id helps the provider's support.
            raise SmsError(f"Tencent Cloud SMS refused the request: {e.get_code()} {e.get_request_id()}") from None
        except Exception as e:  # network errors: the SDK wraps few of them
            raise SmsError(f"Tencent Cloud SMS could not be reached: {type(e).__name__}") from None
        statuses = resp.SendStatusSet or []
        if len(statuses) != 1 or statuses[0].Code != "Ok":
            code_ = statuses[0].Code if statuses else "no status"
            raise SmsError(f"Tencent Cloud SMS did not send the message: {code_}")
        current_app.logger.info("SMS sign-in code sent to %s by Tencent Cloud (%s)", masked(phone),
                                statuses[0].SerialNo)


BACKENDS = {"console": lambda config: ConsoleBackend(), "tencent": TencentBackend}


def init_app(app):
    name = (app.config.get("SMS_BACKEND") or "console").lower()
    if name not in BACKENDS:
        raise RuntimeError(f"SMS_BACKEND must be one of {', '.join(BACKENDS)}, not {name!r}")
    app.extensions["huimin_sms"] = BACKENDS[name](app.config)
    app.extensions["huimin_sms_outbox"] = collections.deque(maxlen=OUTBOX_SIZE)


def backend():
    return current_app.extensions["huimin_sms"]


def outbox(app) -> collections.deque:
    """The messages the console backend sent in development and tests, newest last."""
    return app.extensions["huimin_sms_outbox"]


def send_code(phone: str, code: str, minutes: int) -> None:
    backend().send_code(phone, code, minutes)
