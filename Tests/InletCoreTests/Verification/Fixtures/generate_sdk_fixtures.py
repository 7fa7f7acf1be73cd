#!/usr/bin/env python3
"""Generate known-answer webhook-signature fixtures with the providers' official Python SDKs.

Writes sdk_fixtures.json next to this script: a list of request fixtures (provider profile, receiver
secrets, exact headers and body, receiver clock) together with what the official SDK said and what Inlet
must answer (`expected`: "accepted" or an Inlet reason code).

Setup (nothing is pinned globally; use a throwaway venv):

    python3 -m venv /tmp/fixture-venv
    /tmp/fixture-venv/bin/pip install stripe standardwebhooks svix slack-sdk
    /tmp/fixture-venv/bin/python Tests/InletCoreTests/Verification/Fixtures/generate_sdk_fixtures.py          # write
    /tmp/fixture-venv/bin/python Tests/InletCoreTests/Verification/Fixtures/generate_sdk_fixtures.py --check  # compare only

Signatures are produced by each SDK's own signing helper (stripe.WebhookSignature.generate_signature_header,
standardwebhooks.Webhook.sign, svix.webhooks.Webhook.sign, slack_sdk SignatureVerifier.generate_signature)
and cross-checked against an independent hmac computation of the documented scheme. Acceptance is decided by
the SDK's own verify (stripe.Webhook.construct_event, Webhook.verify, SignatureVerifier.is_valid_request)
with the clock frozen at the fixture's `now`. GitHub and Shopify have no official Python SDK for webhook
signatures; they are computed with the hmac module per the documented scheme and `sdk_accepts` is null.

Everything is deterministic: fixed secrets, bodies and clock. Running twice gives byte-identical output
(for the same SDK versions, which are recorded in each fixture's `sdk` field).
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import hmac
import importlib.metadata
import json
import sys
import time
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from unittest import mock

REQUIRED = {
    # import name -> PyPI distribution name
    "stripe": "stripe",
    "standardwebhooks": "standardwebhooks",
    "svix": "svix",
    "slack_sdk": "slack-sdk",
}


def _require_sdks() -> None:
    missing = []
    for module, dist in REQUIRED.items():
        try:
            __import__(module)
        except ImportError:
            missing.append(dist)
    if missing:
        print(
            "error: missing official SDK(s): " + ", ".join(missing) + "\n"
            "Install them into a throwaway venv, for example:\n"
            "    python3 -m venv /tmp/fixture-venv\n"
            "    /tmp/fixture-venv/bin/pip install " + " ".join(REQUIRED.values()) + "\n"
            "    /tmp/fixture-venv/bin/python " + sys.argv[0],
            file=sys.stderr,
        )
        sys.exit(2)


_require_sdks()

import slack_sdk.signature  # noqa: E402
import standardwebhooks  # noqa: E402
import standardwebhooks.webhooks  # noqa: E402
import stripe  # noqa: E402
import svix.webhooks  # noqa: E402


def sdk_label(dist: str) -> str:
    return f"{dist} {importlib.metadata.version(dist)}"


SDK_STRIPE = sdk_label("stripe")
SDK_STDWH = sdk_label("standardwebhooks")
SDK_SVIX = sdk_label("svix")
SDK_SLACK = sdk_label("slack-sdk")
SDK_HMAC = "python hmac (documented scheme)"

# Shipped with the profiles (providers/fixtures/), where `inlet providers test NAME` reads them.
OUT = Path(__file__).resolve().parents[4] / "providers" / "fixtures" / "sdk_fixtures.json"

NOW = 1767225600  # 2026-01-01T00:00:00Z, the receiver's clock in every fixture
TOLERANCE = 300

# --------------------------------------------------------------------------------------------------------------
# Frozen clock
# --------------------------------------------------------------------------------------------------------------


class _FixedSlackClock(slack_sdk.signature.Clock):
    def __init__(self, now: int):
        self._now = now

    def now(self) -> float:
        return float(self._now)


def _frozen_datetime(now: int):
    class FrozenDatetime(datetime):
        @classmethod
        def now(cls, tz=None):  # standardwebhooks calls datetime.now(tz=timezone.utc)
            return datetime.fromtimestamp(now, tz=tz)

    return FrozenDatetime


@contextmanager
def frozen_clock(now: int):
    """Freezes every clock the SDKs read during verify: time.time (stripe, slack's default Clock) and
    standardwebhooks' datetime.now (also used by svix, which delegates to standardwebhooks)."""
    with mock.patch.object(time, "time", return_value=float(now)), mock.patch.object(
        standardwebhooks.webhooks, "datetime", _frozen_datetime(now)
    ):
        yield


# --------------------------------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------------------------------


def hmac_sha256(key: bytes, msg: bytes) -> bytes:
    return hmac.new(key, msg, hashlib.sha256).digest()


def header_get(headers: dict, name: str):
    for k, v in headers.items():
        if k.lower() == name.lower():
            return v
    return None


def without(headers: dict, *names: str) -> dict:
    drop = {n.lower() for n in names}
    return {k: v for k, v in headers.items() if k.lower() not in drop}


def derived_b64_secret(label: str, n: int = 24) -> str:
    """A fixed Standard Webhooks / Svix style secret: whsec_ + base64 of n bytes derived from label."""
    return "whsec_" + base64.b64encode(hashlib.sha256(label.encode()).digest()[:n]).decode()


def dt(ts: int) -> datetime:
    return datetime.fromtimestamp(ts, tz=timezone.utc)


FACT_NOTES: list[str] = []  # places where an SDK differs from the documented facts (printed at the end)
SDK_ODDITIES: list[str] = []  # SDK verify raised something other than its own verification error


def describe_exc(e: BaseException) -> str:
    return f"{type(e).__module__}.{type(e).__name__}: {e}"


# --------------------------------------------------------------------------------------------------------------
# Per-provider signing (SDK helper, cross-checked against the documented scheme) and SDK verification
# --------------------------------------------------------------------------------------------------------------


# Stripe ------------------------------------------------------------------------------------------------------


def stripe_v1(body: str, secret: str, ts: int) -> str:
    """The v1 hex signature, from the SDK's own test helper, checked against the documented scheme."""
    header = stripe.WebhookSignature.generate_signature_header(body, secret, timestamp=ts)
    prefix = f"t={ts},v1="
    assert header.startswith(prefix) and header.count(",") == 1, header
    sig = header[len(prefix):]
    manual = hmac_sha256(secret.encode("utf-8"), f"{ts}.{body}".encode("utf-8")).hex()
    if sig != manual:
        FACT_NOTES.append(f"stripe: SDK signature {sig} != documented scheme {manual}")
        raise AssertionError("stripe SDK signature differs from the documented scheme")
    return sig


def stripe_header(body: str, secret: str, ts: int) -> str:
    return stripe.WebhookSignature.generate_signature_header(body, secret, timestamp=ts)


def stripe_verify(body: str, headers: dict, secret: str, now: int):
    """Returns (accepted, event_id, event_type, detail)."""
    with frozen_clock(now):
        try:
            event = stripe.Webhook.construct_event(body, header_get(headers, "Stripe-Signature"), secret)
        except stripe.SignatureVerificationError as e:
            return False, None, None, f"SignatureVerificationError: {e.user_message or e}"
        except Exception as e:  # noqa: BLE001 - record, don't hide, SDK crashes
            SDK_ODDITIES.append(f"stripe verify raised {describe_exc(e)}")
            return False, None, None, describe_exc(e)
    return True, event.id, event.type, "accepted"


# Standard Webhooks / Svix ------------------------------------------------------------------------------------


def stdwh_sig(secret: str, msg_id: str, ts: int, body: str, svix_sdk: bool = False) -> str:
    """'v1,<base64>' from the SDK's sign(), checked against the documented scheme."""
    wh = svix.webhooks.Webhook(secret) if svix_sdk else standardwebhooks.Webhook(secret)
    sig = wh.sign(msg_id, dt(ts), body)
    key = base64.b64decode(secret[len("whsec_"):])
    manual = "v1," + base64.b64encode(hmac_sha256(key, f"{msg_id}.{ts}.{body}".encode("utf-8"))).decode()
    if sig != manual:
        name = "svix" if svix_sdk else "standard-webhooks"
        FACT_NOTES.append(f"{name}: SDK signature {sig} != documented scheme {manual}")
        raise AssertionError(f"{name} SDK signature differs from the documented scheme")
    return sig


def stdwh_verify(body: str, headers: dict, secret: str, now: int, svix_sdk: bool = False):
    wh = svix.webhooks.Webhook(secret) if svix_sdk else standardwebhooks.Webhook(secret)
    name = "svix" if svix_sdk else "standardwebhooks"
    with frozen_clock(now):
        try:
            result = wh.verify(body, dict(headers))
        except standardwebhooks.webhooks.WebhookVerificationError as e:
            return False, None, None, f"WebhookVerificationError: {e}"
        except Exception as e:  # noqa: BLE001
            SDK_ODDITIES.append(f"{name} verify raised {describe_exc(e)} (not WebhookVerificationError)")
            return False, None, None, describe_exc(e)
    # standardwebhooks returns the parsed body; svix returns None. Event type comes from the JSON body.
    parsed = result if result is not None else json.loads(body)
    lower = {k.lower(): v for k, v in headers.items()}
    msg_id = lower.get("svix-id", lower.get("webhook-id")) if svix_sdk else lower.get("webhook-id")
    return True, msg_id, parsed.get("type"), "accepted"


# Slack -------------------------------------------------------------------------------------------------------


def slack_sig(secret: str, ts: int, body: str) -> str:
    sig = slack_sdk.signature.SignatureVerifier(secret).generate_signature(timestamp=str(ts), body=body)
    manual = "v0=" + hmac_sha256(secret.encode("utf-8"), f"v0:{ts}:{body}".encode("utf-8")).hex()
    if sig != manual:
        FACT_NOTES.append(f"slack: SDK signature {sig} != documented scheme {manual}")
        raise AssertionError("slack SDK signature differs from the documented scheme")
    return sig


def slack_verify(body: str, headers: dict, secret: str, now: int):
    verifier = slack_sdk.signature.SignatureVerifier(secret, clock=_FixedSlackClock(now))
    with frozen_clock(now):
        try:
            ok = verifier.is_valid_request(body, dict(headers))
        except Exception as e:  # noqa: BLE001
            SDK_ODDITIES.append(f"slack_sdk is_valid_request raised {describe_exc(e)} (instead of returning False)")
            return False, None, None, describe_exc(e)
    if not ok:
        return False, None, None, "is_valid_request returned False"
    parsed = json.loads(body)
    return True, parsed.get("event_id"), (parsed.get("event") or {}).get("type") or parsed.get("type"), "accepted"


# GitHub / Shopify (documented scheme, no SDK) ----------------------------------------------------------------


def github_sig(secret: str, body: str) -> str:
    return "sha256=" + hmac_sha256(secret.encode("utf-8"), body.encode("utf-8")).hex()


def shopify_sig(secret: str, body: str) -> str:
    return base64.b64encode(hmac_sha256(secret.encode("utf-8"), body.encode("utf-8"))).decode()


def plain_reference_accepts(expected_value_for, header_value, secrets) -> bool:
    """Reference check for the no-SDK providers: exact string compare against each secret's signature."""
    if not header_value:
        return False
    return any(hmac.compare_digest(header_value, expected_value_for(s)) for s in secrets)


# --------------------------------------------------------------------------------------------------------------
# Fixture assembly
# --------------------------------------------------------------------------------------------------------------

FIXTURES: list[dict] = []

# Cases where Inlet deliberately differs from the SDK. Each must actually diverge (checked below).
DOCUMENTED_DIVERGENCES = {
    ("stripe", "future_timestamp"): "Stripe's SDK only rejects old timestamps; Inlet also bounds future skew, at 1 h.",
}


def add(provider, sdk, case, description, secrets, headers, body, expected, *, now=NOW, verify=None,
        event_id=None, event_type=None):
    """verify(body, headers, secret, now) -> (accepted, id, type, detail); None for the no-SDK providers."""
    fixture = {
        "provider": provider,
        "sdk": sdk,
        "case": case,
        "description": description,
        "secrets": list(secrets),
        "headers": dict(headers),
        "body": body,
        "now": now,
        "sdk_accepts": None,
        "expected": expected,
        "expected_event_id": event_id if expected == "accepted" else None,
        "expected_event_type": event_type if expected == "accepted" else None,
        "sdk_detail": None,
    }
    if verify is not None:
        accepted, details = False, []
        for index, secret in enumerate(secrets):
            ok, sdk_id, sdk_type, detail = verify(body, headers, secret, now)
            details.append(f"secrets[{index}]: {detail}")
            if ok:
                accepted = True
                # The SDK's view of the event must agree with what Inlet is expected to extract.
                if expected == "accepted":
                    assert (sdk_id, sdk_type) == (event_id, event_type), (provider, case, sdk_id, sdk_type)
                break
        fixture["sdk_accepts"] = accepted
        fixture["sdk_detail"] = "; ".join(details)
    if expected == "accepted":
        assert event_id and event_type, (provider, case)
    FIXTURES.append(fixture)


# --------------------------------------------------------------------------------------------------------------
# Bodies
# --------------------------------------------------------------------------------------------------------------

# Stripe sends pretty-printed JSON (2-space indent, newlines inside the body).
STRIPE_EVT_ID = "evt_1SkQ7b2eZvKYlo2CqUeW3n9R"
STRIPE_BODY = (
    "{\n"
    f'  "id": "{STRIPE_EVT_ID}",\n'
    '  "object": "event",\n'
    '  "api_version": "2025-12-15.clover",\n'
    '  "created": 1767225590,\n'
    '  "data": {\n'
    '    "object": {\n'
    '      "id": "in_1SkQ7Z2eZvKYlo2C8pLmT4xw",\n'
    '      "object": "invoice",\n'
    '      "amount_due": 2000,\n'
    '      "amount_paid": 2000,\n'
    '      "currency": "usd",\n'
    '      "customer": "cus_TfJx1ZkQ8bW3aN",\n'
    '      "status": "paid"\n'
    "    }\n"
    "  },\n"
    '  "livemode": false,\n'
    '  "pending_webhooks": 1,\n'
    '  "request": {\n'
    '    "id": null,\n'
    '    "idempotency_key": null\n'
    "  },\n"
    '  "type": "invoice.paid"\n'
    "}"
)
STRIPE_BODY_TAMPERED = STRIPE_BODY.replace('"amount_paid": 2000', '"amount_paid": 200000')
assert STRIPE_BODY_TAMPERED != STRIPE_BODY

STRIPE_EVT_ID_UTF8 = "evt_1SkQ8c2eZvKYlo2CZ0rIcH5u"
STRIPE_BODY_UTF8 = (
    "{\n"
    f'  "id": "{STRIPE_EVT_ID_UTF8}",\n'
    '  "object": "event",\n'
    '  "api_version": "2025-12-15.clover",\n'
    '  "created": 1767225591,\n'
    '  "data": {\n'
    '    "object": {\n'
    '      "id": "cus_TfJx1ZkQ8bW3aN",\n'
    '      "object": "customer",\n'
    '      "name": "Zoë Müller-Łukasiewicz",\n'
    '      "address": {"city": "Zürich", "line1": "Bahnhofstraße 1"},\n'
    '      "description": "VIP 顧客 🚀 — ça marche"\n'
    "    }\n"
    "  },\n"
    '  "livemode": false,\n'
    '  "type": "customer.updated"\n'
    "}"
)

STRIPE_EVT_ID_ESC = "evt_1SkQ9d2eZvKYlo2C4ySx0aQe"
# The body carries JSON escape sequences as literal text (backslash, 'u', '0', '0', '1', 'b', ...): a verifier
# that parses and re-serialises the JSON, instead of hashing the raw bytes, gets a different HMAC.
STRIPE_BODY_ESC = (
    "{\n"
    f'  "id": "{STRIPE_EVT_ID_ESC}",\n'
    '  "object": "event",\n'
    '  "created": 1767225592,\n'
    '  "data": {\n'
    '    "object": {\n'
    '      "id": "prod_TfJxQ2mVb7LcZk",\n'
    '      "object": "product",\n'
    '      "description": "\\u001b[1mBold\\u001b[0m \\"quoted\\" \\\\ back\\/slash caf\\u00e9 \\ud83d\\ude80\\n"\n'
    "    }\n"
    "  },\n"
    '  "type": "product.updated"\n'
    "}"
)
assert "\\u001b" in STRIPE_BODY_ESC and "\x1b" not in STRIPE_BODY_ESC

STDWH_MSG_ID = "msg_2m0J8bKqL6gA9tYxR3vW5nPzE1s"
STDWH_BODY = '{"type":"invoice.paid","timestamp":"2025-12-31T23:59:58.000Z","data":{"invoice_id":"inv_7781","amount":2000,"currency":"USD","customer":{"id":"cus_42","email":"ada@example.com"}}}'
STDWH_BODY_TAMPERED = STDWH_BODY.replace('"amount":2000', '"amount":2')
STDWH_MSG_ID_UTF8 = "msg_2m0J8cUtf8NonAsciiBodyX7q"
STDWH_BODY_UTF8 = '{"type":"user.created","timestamp":"2025-12-31T23:59:58.000Z","data":{"name":"José Ñúñez","city":"København","note":"東京 ✓ 🎉"}}'
STDWH_MSG_ID_ESC = "msg_2m0J8dEscapedBodyQ0a9Zr"
STDWH_BODY_ESC = '{"type":"log.line","timestamp":"2025-12-31T23:59:58.000Z","data":{"line":"\\u001b[31mERROR\\u001b[0m tab\\there \\"q\\" \\u00e9 \\ud83d\\ude00"}}'

SVIX_MSG_ID = "msg_2m0Ka1SvixFixtureBodyQ9wE"
SVIX_BODY = '{"type":"invoice.paid","data":{"id":"inv_9001","amount":4500,"currency":"eur","customer_email":"grace@example.com"}}'
SVIX_BODY_TAMPERED = SVIX_BODY.replace('"amount":4500', '"amount":45')
SVIX_MSG_ID_UTF8 = "msg_2m0Kb2SvixUtf8BodyPq3Lm"
SVIX_BODY_UTF8 = '{"type":"message.created","data":{"text":"Grüße aus Köln — 你好 👋","author":"Åsa"}}'
SVIX_MSG_ID_ESC = "msg_2m0Kc3SvixEscBodyZz8Tt"
SVIX_BODY_ESC = '{"type":"message.created","data":{"text":"\\u001b[32mok\\u001b[0m line1\\nline2 \\u2603"}}'

SLACK_EVENT_ID = "Ev0AB12CD3EF"
SLACK_BODY = (
    '{"token":"Jhj5dZrVaK7ZwHHjRyZWjbDl","team_id":"T0001ABCD","api_app_id":"A0KRD7HC3",'
    '"event":{"type":"app_mention","user":"U061F7AUR","text":"<@U0LAN0Z89> is it everything a river should be?",'
    '"ts":"1767225599.000100","channel":"C0LAN2Q65","event_ts":"1767225599.000100"},'
    f'"type":"event_callback","event_id":"{SLACK_EVENT_ID}","event_time":1767225599,'
    '"authorizations":[{"enterprise_id":null,"team_id":"T0001ABCD","user_id":"U0LAN0Z89","is_bot":true,"is_enterprise_install":false}],'
    '"is_ext_shared_channel":false,"event_context":"4-eyJldCI6ImFwcF9tZW50aW9uIn0"}'
)
SLACK_BODY_TAMPERED = SLACK_BODY.replace("is it everything", "is it anything")
SLACK_EVENT_ID_UTF8 = "Ev0AB12UTF8X"
SLACK_BODY_UTF8 = (
    '{"token":"Jhj5dZrVaK7ZwHHjRyZWjbDl","team_id":"T0001ABCD","api_app_id":"A0KRD7HC3",'
    '"event":{"type":"message","user":"U061F7AUR","text":"héllo wörld — こんにちは 👋🏽","ts":"1767225598.000200",'
    '"channel":"C0LAN2Q65","event_ts":"1767225598.000200","channel_type":"channel"},'
    f'"type":"event_callback","event_id":"{SLACK_EVENT_ID_UTF8}","event_time":1767225598}}'
)
SLACK_EVENT_ID_ESC = "Ev0AB12ESC9Z"
# Slack escapes '/' as '\/' and sends non-ASCII as \uXXXX escapes in some payloads.
SLACK_BODY_ESC = (
    '{"token":"Jhj5dZrVaK7ZwHHjRyZWjbDl","team_id":"T0001ABCD","api_app_id":"A0KRD7HC3",'
    '"event":{"type":"link_shared","user":"U061F7AUR","links":[{"domain":"example.com","url":"https:\\/\\/example.com\\/a?b=1"}],'
    '"text":"\\u001b[0m caf\\u00e9 \\ud83d\\ude80","ts":"1767225597.000300","channel":"C0LAN2Q65","event_ts":"1767225597.000300"},'
    f'"type":"event_callback","event_id":"{SLACK_EVENT_ID_ESC}","event_time":1767225597}}'
)

GITHUB_DELIVERY = "8c2a3f40-e6a1-11f0-9a3c-7b1d2c4e5f60"
GITHUB_BODY = (
    '{"action":"opened","issue":{"id":3145728001,"number":1347,"title":"Found a bug",'
    '"user":{"login":"octocat","id":1},"state":"open","body":"I\'m having a problem with this."},'
    '"repository":{"id":1296269,"full_name":"octocat/Hello-World","private":false},'
    '"sender":{"login":"octocat","id":1}}'
)
GITHUB_BODY_TAMPERED = GITHUB_BODY.replace('"number":1347', '"number":1348')
GITHUB_DELIVERY_UTF8 = "8c2a3f41-e6a1-11f0-9a3c-7b1d2c4e5f60"
GITHUB_BODY_UTF8 = (
    '{"action":"created","comment":{"id":2001,"body":"Merci ! Ça fonctionne 🎉 — 修正済み"},'
    '"issue":{"number":1347,"title":"Ümlaut handling"},'
    '"repository":{"full_name":"octocat/Hello-World"},"sender":{"login":"renée"}}'
)
GITHUB_DELIVERY_ESC = "8c2a3f42-e6a1-11f0-9a3c-7b1d2c4e5f60"
GITHUB_BODY_ESC = (
    '{"ref":"refs/heads/main","head_commit":{"id":"6dcb09b5b57875f334f61aebed695e2e4193db5e",'
    '"message":"Fix \\u001b[33mANSI\\u001b[0m colours\\n\\nSigned-off-by: Ren\\u00e9e <r@example.com>"},'
    '"repository":{"full_name":"octocat/Hello-World"},"pusher":{"name":"octocat"}}'
)

SHOPIFY_EVENT_ID = "b54557e4-bdd9-4b37-8a5f-bf7d70bcd043"
SHOPIFY_WEBHOOK_ID = "d2e5f0a8-4b1c-4a3e-9f2d-6c7b8a9e0f11"
SHOPIFY_BODY = (
    '{"id":820982911946154508,"email":"jon@example.com","created_at":"2025-12-31T18:59:58-05:00",'
    '"currency":"CAD","total_price":"199.65","financial_status":"paid",'
    '"line_items":[{"id":866550311766439020,"title":"Crème brûlée torch","quantity":1,"price":"199.65"}],'
    '"shipping_address":{"city":"Montréal","province":"Québec","country":"Canada"}}'
)
SHOPIFY_BODY_TAMPERED = SHOPIFY_BODY.replace('"total_price":"199.65"', '"total_price":"1.65"')
SHOPIFY_EVENT_ID_ESC = "0f6b8e2c-4f8d-4c1e-9b7a-2d3c4e5f6a7b"
SHOPIFY_BODY_ESC = (
    '{"id":632910392,"title":"IPod Nano \\u001b 8GB","body_html":"\\u003cp\\u003eIt\'s the small iPod\\u003c\\/p\\u003e",'
    '"vendor":"Apple","handle":"ipod-nano","tags":"Emotive, Flash Memory, \\u00e9t\\u00e9"}'
)

# --------------------------------------------------------------------------------------------------------------
# Secrets (fixed; receivers are configured with the first list unless a case says otherwise)
# --------------------------------------------------------------------------------------------------------------

STRIPE_NEW = "whsec_V7kq2Lm9Xc4Rb8Tz1Nw6Yp3Hs5Dg0Fa2"
STRIPE_OLD = "whsec_Q1az8Wsx2Edc7Rfv3Tgb6Yhn4Ujm9Ik5"
STRIPE_WRONG = "whsec_NotTheConfiguredSecret0000000000"

STDWH_NEW = derived_b64_secret("inlet fixture standard-webhooks current")
STDWH_OLD = derived_b64_secret("inlet fixture standard-webhooks previous")
STDWH_WRONG = derived_b64_secret("inlet fixture standard-webhooks wrong")

SVIX_NEW = derived_b64_secret("inlet fixture svix current")
SVIX_OLD = derived_b64_secret("inlet fixture svix previous")
SVIX_WRONG = derived_b64_secret("inlet fixture svix wrong")

SLACK_NEW = hashlib.sha256(b"inlet fixture slack current").hexdigest()[:32]
SLACK_OLD = hashlib.sha256(b"inlet fixture slack previous").hexdigest()[:32]
SLACK_WRONG = hashlib.sha256(b"inlet fixture slack wrong").hexdigest()[:32]

GITHUB_NEW = "gh-webhook-secret-2026-Kp7xQ2"
GITHUB_OLD = "gh-webhook-secret-2025-Zr4mN8"
GITHUB_WRONG = "not-the-configured-secret"

SHOPIFY_NEW = "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"
SHOPIFY_OLD = "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"
SHOPIFY_WRONG = "shpss_00000000000000000000000000000000"


# --------------------------------------------------------------------------------------------------------------
# Stripe
# --------------------------------------------------------------------------------------------------------------


def build_stripe():
    p, sdk, v = "stripe", SDK_STRIPE, stripe_verify
    ev = dict(event_id=STRIPE_EVT_ID, event_type="invoice.paid")
    t = NOW - 5

    def h(value):
        return {"Stripe-Signature": value}

    good = stripe_header(STRIPE_BODY, STRIPE_NEW, t)
    sig = stripe_v1(STRIPE_BODY, STRIPE_NEW, t)

    add(p, sdk, "valid", "Signed 5 s ago with the configured secret (header from stripe.WebhookSignature.generate_signature_header).",
        [STRIPE_NEW], h(good), STRIPE_BODY, "accepted", verify=v, **ev)
    add(p, sdk, "valid_non_ascii_body", "Raw UTF-8 body (ë, ü, ß, Ł, CJK, 4-byte emoji); the HMAC is over the UTF-8 bytes.",
        [STRIPE_NEW], h(stripe_header(STRIPE_BODY_UTF8, STRIPE_NEW, t)), STRIPE_BODY_UTF8, "accepted", verify=v,
        event_id=STRIPE_EVT_ID_UTF8, event_type="customer.updated")
    add(p, sdk, "valid_escaped_body", "Body carries literal JSON escapes (\\u001b, \\\", \\/, \\u00e9, surrogate pair); hash the raw bytes, never a re-serialisation.",
        [STRIPE_NEW], h(stripe_header(STRIPE_BODY_ESC, STRIPE_NEW, t)), STRIPE_BODY_ESC, "accepted", verify=v,
        event_id=STRIPE_EVT_ID_ESC, event_type="product.updated")
    add(p, sdk, "tampered_body", "Signature for the original body; amount_paid changed in transit.",
        [STRIPE_NEW], h(good), STRIPE_BODY_TAMPERED, "signature_mismatch", verify=v)
    add(p, sdk, "wrong_secret", "Signed with a secret the receiver does not have.",
        [STRIPE_NEW], h(stripe_header(STRIPE_BODY, STRIPE_WRONG, t)), STRIPE_BODY, "signature_mismatch", verify=v)
    add(p, sdk, "rotated_old_secret", "Receiver holds [new, old] during a roll; request signed with the old secret.",
        [STRIPE_NEW, STRIPE_OLD], h(stripe_header(STRIPE_BODY, STRIPE_OLD, t)), STRIPE_BODY, "accepted", verify=v, **ev)
    add(p, sdk, "rotated_new_secret", "Receiver holds [new, old]; request signed with the new secret.",
        [STRIPE_NEW, STRIPE_OLD], h(good), STRIPE_BODY, "accepted", verify=v, **ev)
    add(p, sdk, "rotation_both_signatures", "During a roll Stripe sends one v1 per secret; receiver only has the old one.",
        [STRIPE_OLD], h(f"t={t},v1={sig},v1={stripe_v1(STRIPE_BODY, STRIPE_OLD, t)}"), STRIPE_BODY, "accepted", verify=v, **ev)
    add(p, sdk, "body_trailing_newline", "Signature for the body without the final newline; one '\\n' appended in transit.",
        [STRIPE_NEW], h(good), STRIPE_BODY + "\n", "signature_mismatch", verify=v)
    add(p, sdk, "uppercase_hex", "Correct signature but in upper-case hex; the SDK compares the exact lower-case string.",
        [STRIPE_NEW], h(f"t={t},v1={sig.upper()}"), STRIPE_BODY, "signature_mismatch", verify=v)
    add(p, sdk, "truncated_signature", "v1 hex with the last two characters removed.",
        [STRIPE_NEW], h(f"t={t},v1={sig[:-2]}"), STRIPE_BODY, "signature_mismatch", verify=v)
    add(p, sdk, "tampered_timestamp", "Valid v1 for t=now-5 but t rewritten to now; t is part of the signed content.",
        [STRIPE_NEW], h(f"t={NOW},v1={sig}"), STRIPE_BODY, "signature_mismatch", verify=v)
    add(p, sdk, "missing_signature", "No Stripe-Signature header.",
        [STRIPE_NEW], {}, STRIPE_BODY, "missing_signature", verify=v)
    add(p, sdk, "malformed_signature", "Stripe-Signature is 'garbage': no key=value pair at all.",
        [STRIPE_NEW], h("garbage"), STRIPE_BODY, "malformed_signature", verify=v)
    add(p, sdk, "empty_signature", "Stripe-Signature present with an empty value.",
        [STRIPE_NEW], h(""), STRIPE_BODY, "malformed_signature", verify=v)
    add(p, sdk, "only_v0_signature",
        "Well-formed header with t and only a v0 entry (an unsupported scheme); the SDK says 'No signatures found with expected scheme v1'. "
        "Inlet reason no_supported_signature (beyond the brief's list; from SignatureHeaderParser).",
        [STRIPE_NEW], h(f"t={t},v0={hmac_sha256(b'v0-test-key', STRIPE_BODY.encode()).hex()}"), STRIPE_BODY,
        "no_supported_signature", verify=v)
    add(p, sdk, "signature_without_timestamp",
        "Valid-looking v1 but no t= field; the SDK cannot extract a timestamp. Inlet reason missing_timestamp (t is the timestamp source).",
        [STRIPE_NEW], h(f"v1={sig}"), STRIPE_BODY, "missing_timestamp", verify=v)
    add(p, sdk, "multiple_signatures_one_valid", "Two v1 entries, the first wrong (signed with another secret), the second valid.",
        [STRIPE_NEW], h(f"t={t},v1={stripe_v1(STRIPE_BODY, STRIPE_WRONG, t)},v1={sig}"), STRIPE_BODY, "accepted", verify=v, **ev)
    add(p, sdk, "unknown_scheme_ignored", "A v0 entry (test-mode scheme, different key) alongside the valid v1; v0 must be ignored.",
        [STRIPE_NEW], h(f"t={t},v1={sig},v0={hmac_sha256(b'v0-test-key', STRIPE_BODY.encode()).hex()}"), STRIPE_BODY,
        "accepted", verify=v, **ev)
    add(p, sdk, "unknown_scheme_first", "A v0 entry before the valid v1 and an unknown extra key; only v1 counts.",
        [STRIPE_NEW], h(f"t={t},v0={'0' * 64},v1={sig},x=unknown"), STRIPE_BODY, "accepted", verify=v, **ev)

    for case, ts, expected, desc in [
        ("stale_timestamp", NOW - 301, "timestamp_outside_tolerance", "Valid signature, t = now - 301 (tolerance 300 s)."),
        ("stale_boundary_300", NOW - 300, "accepted", "Valid signature, t = now - 300: exactly at the tolerance, still accepted."),
        ("stale_inside_tolerance", NOW - 299, "accepted", "Valid signature, t = now - 299: inside tolerance."),
        ("future_inside_tolerance", NOW + 299, "accepted", "Valid signature, t = now + 299: inside the future tolerance."),
        ("future_boundary_300", NOW + 300, "accepted", "Valid signature, t = now + 300: exactly at the future tolerance, still accepted."),
        ("future_beyond_300", NOW + 301, "accepted",
         "Valid signature, t = now + 301: Stripe's SDK only rejects old timestamps, and Inlet's future bound is 1 h."),
        ("future_boundary_3600", NOW + 3600, "accepted", "Valid signature, t = now + 3600: exactly at Inlet's future bound."),
        ("future_timestamp", NOW + 3601, "timestamp_outside_tolerance",
         "Valid signature, t = now + 3601. DIVERGENCE: Stripe's SDK accepts it (it only rejects old timestamps), "
         "Inlet also rejects future skew beyond 1 h."),
    ]:
        add(p, sdk, case, desc, [STRIPE_NEW], h(stripe_header(STRIPE_BODY, STRIPE_NEW, ts)), STRIPE_BODY, expected,
            verify=v, **ev)


# --------------------------------------------------------------------------------------------------------------
# Standard Webhooks and Svix (same scheme, different header names)
# --------------------------------------------------------------------------------------------------------------


def build_stdwh_like(svix_flavour: bool):
    if svix_flavour:
        p, sdk = "svix", SDK_SVIX
        hid, hts, hsig = "svix-id", "svix-timestamp", "svix-signature"
        NEW, OLD, WRONG = SVIX_NEW, SVIX_OLD, SVIX_WRONG
        MSG, BODY, TAMPERED = SVIX_MSG_ID, SVIX_BODY, SVIX_BODY_TAMPERED
        MSG_U, BODY_U, TYPE_U = SVIX_MSG_ID_UTF8, SVIX_BODY_UTF8, "message.created"
        MSG_E, BODY_E, TYPE_E = SVIX_MSG_ID_ESC, SVIX_BODY_ESC, "message.created"
    else:
        p, sdk = "standard-webhooks", SDK_STDWH
        hid, hts, hsig = "webhook-id", "webhook-timestamp", "webhook-signature"
        NEW, OLD, WRONG = STDWH_NEW, STDWH_OLD, STDWH_WRONG
        MSG, BODY, TAMPERED = STDWH_MSG_ID, STDWH_BODY, STDWH_BODY_TAMPERED
        MSG_U, BODY_U, TYPE_U = STDWH_MSG_ID_UTF8, STDWH_BODY_UTF8, "user.created"
        MSG_E, BODY_E, TYPE_E = STDWH_MSG_ID_ESC, STDWH_BODY_ESC, "log.line"

    def v(body, headers, secret, now):
        return stdwh_verify(body, headers, secret, now, svix_sdk=svix_flavour)

    def sign(secret, msg_id, ts, body):
        return stdwh_sig(secret, msg_id, ts, body, svix_sdk=svix_flavour)

    def h(msg_id, ts, sig):
        out = {}
        if msg_id is not None:
            out[hid] = msg_id
        if ts is not None:
            out[hts] = str(ts)
        if sig is not None:
            out[hsig] = sig
        return out

    t = NOW - 5
    ev = dict(event_id=MSG, event_type="invoice.paid")
    good = sign(NEW, MSG, t, BODY)
    wrong = sign(WRONG, MSG, t, BODY)
    b64 = good.split(",", 1)[1]
    scheme = "Standard Webhooks" if not svix_flavour else "Svix"

    add(p, sdk, "valid", f"Signed 5 s ago with the configured secret ({scheme} SDK sign()).",
        [NEW], h(MSG, t, good), BODY, "accepted", verify=v, **ev)
    add(p, sdk, "valid_non_ascii_body", "Raw UTF-8 body (accents, CJK, emoji); the HMAC is over the UTF-8 bytes.",
        [NEW], h(MSG_U, t, sign(NEW, MSG_U, t, BODY_U)), BODY_U, "accepted", verify=v, event_id=MSG_U, event_type=TYPE_U)
    add(p, sdk, "valid_escaped_body", "Body carries literal JSON escapes (\\u001b, \\t, \\n, \\\", surrogate pair); hash the raw bytes.",
        [NEW], h(MSG_E, t, sign(NEW, MSG_E, t, BODY_E)), BODY_E, "accepted", verify=v, event_id=MSG_E, event_type=TYPE_E)
    add(p, sdk, "tampered_body", "Signature for the original body; amount changed in transit.",
        [NEW], h(MSG, t, good), TAMPERED, "signature_mismatch", verify=v)
    add(p, sdk, "tampered_id", f"Valid signature but {hid} rewritten; the id is part of the signed content.",
        [NEW], h(MSG + "x", t, good), BODY, "signature_mismatch", verify=v)
    add(p, sdk, "tampered_timestamp", f"Signature for t=now-5 but {hts} rewritten to now.",
        [NEW], h(MSG, NOW, good), BODY, "signature_mismatch", verify=v)
    add(p, sdk, "wrong_secret", "Signed with a secret the receiver does not have.",
        [NEW], h(MSG, t, wrong), BODY, "signature_mismatch", verify=v)
    add(p, sdk, "rotated_old_secret", "Receiver holds [new, old]; request signed with the old secret.",
        [NEW, OLD], h(MSG, t, sign(OLD, MSG, t, BODY)), BODY, "accepted", verify=v, **ev)
    add(p, sdk, "rotated_new_secret", "Receiver holds [new, old]; request signed with the new secret.",
        [NEW, OLD], h(MSG, t, good), BODY, "accepted", verify=v, **ev)
    add(p, sdk, "body_trailing_newline", "Signature for the body without a trailing newline; '\\n' appended in transit.",
        [NEW], h(MSG, t, good), BODY + "\n", "signature_mismatch", verify=v)
    add(p, sdk, "truncated_signature", "Base64 signature with its last 4 characters removed (still valid base64, 30 bytes).",
        [NEW], h(MSG, t, "v1," + b64[:-4]), BODY, "signature_mismatch", verify=v)
    add(p, sdk, "missing_signature", f"No {hsig} header ({hid} and {hts} present).",
        [NEW], h(MSG, t, None), BODY, "missing_signature", verify=v)
    add(p, sdk, "missing_timestamp", f"Valid {hsig} and {hid}, but no {hts} header.",
        [NEW], h(MSG, None, good), BODY, "missing_timestamp", verify=v)
    add(p, sdk, "malformed_timestamp", f"{hts} is not a number ('soon'); the signature header is well-formed.",
        [NEW], {hid: MSG, hts: "soon", hsig: good}, BODY, "malformed_timestamp", verify=v)
    add(p, sdk, "malformed_signature",
        f"{hsig} is 'v1,' (a version with an empty signature): nothing usable. The SDK base64-decodes '' and finds no match.",
        [NEW], h(MSG, t, "v1,"), BODY, "malformed_signature", verify=v)
    add(p, sdk, "empty_signature", f"{hsig} present with an empty value.",
        [NEW], h(MSG, t, ""), BODY, "malformed_signature", verify=v)
    add(p, sdk, "multiple_signatures_one_valid", "Space-separated list, first entry signed with another secret, second valid.",
        [NEW], h(MSG, t, f"{wrong} {good}"), BODY, "accepted", verify=v, **ev)
    fake_v1a = base64.b64encode(hashlib.sha512(b"not a real ed25519 signature").digest()).decode()
    add(p, sdk, "unknown_scheme_ignored", "A v1a (asymmetric Ed25519) entry alongside the valid v1; v1a must be skipped.",
        [NEW], h(MSG, t, f"v1a,{fake_v1a} {good}"), BODY, "accepted", verify=v, **ev)
    add(p, sdk, "only_unknown_scheme",
        "Only a v1a entry: well-formed, but no version a symmetric secret can verify. "
        "Inlet reason no_supported_signature (beyond the brief's list; from SignatureHeaderParser).",
        [NEW], h(MSG, t, f"v1a,{fake_v1a}"), BODY, "no_supported_signature", verify=v)

    for case, ts, expected, desc in [
        ("stale_timestamp", NOW - 301, "timestamp_outside_tolerance", "Valid signature, timestamp = now - 301 (tolerance 300 s)."),
        ("stale_boundary_300", NOW - 300, "accepted", "Valid signature, timestamp = now - 300: exactly at the tolerance, accepted."),
        ("stale_inside_tolerance", NOW - 299, "accepted", "Valid signature, timestamp = now - 299: inside tolerance."),
        ("future_inside_tolerance", NOW + 299, "accepted", "Valid signature, timestamp = now + 299: inside tolerance."),
        ("future_boundary_300", NOW + 300, "accepted", "Valid signature, timestamp = now + 300: exactly at the tolerance, accepted."),
        ("future_timestamp", NOW + 301, "timestamp_outside_tolerance", "Valid signature, timestamp = now + 301: too new."),
    ]:
        add(p, sdk, case, desc, [NEW], h(MSG, ts, sign(NEW, MSG, ts, BODY)), BODY, expected, verify=v, **ev)

    if svix_flavour:
        sw_headers = {"webhook-id": MSG, "webhook-timestamp": str(t), "webhook-signature": good}
        add(p, sdk, "unbranded_webhook_headers",
            "Svix signature sent with the unbranded webhook-* header names; the Svix SDK (and Inlet's svix profile) accept them.",
            [NEW], sw_headers, BODY, "accepted", verify=v, **ev)


# --------------------------------------------------------------------------------------------------------------
# Slack
# --------------------------------------------------------------------------------------------------------------


def build_slack():
    p, sdk, v = "slack", SDK_SLACK, slack_verify
    t = NOW - 5
    ev = dict(event_id=SLACK_EVENT_ID, event_type="app_mention")

    def h(ts, sig):
        out = {}
        if ts is not None:
            out["X-Slack-Request-Timestamp"] = str(ts)
        if sig is not None:
            out["X-Slack-Signature"] = sig
        return out

    good = slack_sig(SLACK_NEW, t, SLACK_BODY)
    hexsig = good[len("v0="):]

    add(p, sdk, "valid", "Events API app_mention callback signed 5 s ago (SignatureVerifier.generate_signature).",
        [SLACK_NEW], h(t, good), SLACK_BODY, "accepted", verify=v, **ev)
    add(p, sdk, "valid_non_ascii_body", "Raw UTF-8 message text (accents, kana, emoji with skin-tone modifier).",
        [SLACK_NEW], h(t, slack_sig(SLACK_NEW, t, SLACK_BODY_UTF8)), SLACK_BODY_UTF8, "accepted", verify=v,
        event_id=SLACK_EVENT_ID_UTF8, event_type="message")
    add(p, sdk, "valid_escaped_body", "Slack-style escapes kept verbatim (\\/ in URLs, \\u001b, \\u00e9, surrogate pair).",
        [SLACK_NEW], h(t, slack_sig(SLACK_NEW, t, SLACK_BODY_ESC)), SLACK_BODY_ESC, "accepted", verify=v,
        event_id=SLACK_EVENT_ID_ESC, event_type="link_shared")
    add(p, sdk, "lowercase_header_names", "Same request with lower-case header names (as HTTP/2 sends them).",
        [SLACK_NEW], {"x-slack-request-timestamp": str(t), "x-slack-signature": good}, SLACK_BODY, "accepted", verify=v, **ev)
    add(p, sdk, "tampered_body", "Signature for the original body; message text changed in transit.",
        [SLACK_NEW], h(t, good), SLACK_BODY_TAMPERED, "signature_mismatch", verify=v)
    add(p, sdk, "tampered_timestamp", "Signature for ts=now-5 but X-Slack-Request-Timestamp rewritten to now.",
        [SLACK_NEW], h(NOW, good), SLACK_BODY, "signature_mismatch", verify=v)
    add(p, sdk, "wrong_secret", "Signed with a signing secret the receiver does not have.",
        [SLACK_NEW], h(t, slack_sig(SLACK_WRONG, t, SLACK_BODY)), SLACK_BODY, "signature_mismatch", verify=v)
    add(p, sdk, "rotated_old_secret", "Receiver holds [new, old]; request signed with the old signing secret.",
        [SLACK_NEW, SLACK_OLD], h(t, slack_sig(SLACK_OLD, t, SLACK_BODY)), SLACK_BODY, "accepted", verify=v, **ev)
    add(p, sdk, "rotated_new_secret", "Receiver holds [new, old]; request signed with the new signing secret.",
        [SLACK_NEW, SLACK_OLD], h(t, good), SLACK_BODY, "accepted", verify=v, **ev)
    add(p, sdk, "body_trailing_newline", "Signature for the body without a trailing newline; '\\n' appended in transit.",
        [SLACK_NEW], h(t, good), SLACK_BODY + "\n", "signature_mismatch", verify=v)
    add(p, sdk, "uppercase_hex", "Correct signature in upper-case hex; the SDK compares the exact string.",
        [SLACK_NEW], h(t, "v0=" + hexsig.upper()), SLACK_BODY, "signature_mismatch", verify=v)
    add(p, sdk, "truncated_signature", "v0 hex with the last two characters removed.",
        [SLACK_NEW], h(t, good[:-2]), SLACK_BODY, "signature_mismatch", verify=v)
    add(p, sdk, "missing_signature", "No X-Slack-Signature header (timestamp present).",
        [SLACK_NEW], h(t, None), SLACK_BODY, "missing_signature", verify=v)
    add(p, sdk, "missing_timestamp", "Valid X-Slack-Signature but no X-Slack-Request-Timestamp.",
        [SLACK_NEW], h(None, good), SLACK_BODY, "missing_timestamp", verify=v)
    add(p, sdk, "malformed_timestamp",
        "X-Slack-Request-Timestamp is 'soon'. NOTE: slack_sdk raises ValueError from int() instead of returning False.",
        [SLACK_NEW], {"X-Slack-Request-Timestamp": "soon", "X-Slack-Signature": good}, SLACK_BODY, "malformed_timestamp", verify=v)
    add(p, sdk, "malformed_signature", "X-Slack-Signature is 'garbage' (no v0= prefix).",
        [SLACK_NEW], h(t, "garbage"), SLACK_BODY, "malformed_signature", verify=v)
    add(p, sdk, "empty_signature", "X-Slack-Signature present with an empty value.",
        [SLACK_NEW], h(t, ""), SLACK_BODY, "malformed_signature", verify=v)
    add(p, sdk, "prefix_only_signature", "X-Slack-Signature is just 'v0=' with no hex.",
        [SLACK_NEW], h(t, "v0="), SLACK_BODY, "malformed_signature", verify=v)

    for case, ts, expected, desc in [
        ("stale_timestamp", NOW - 301, "timestamp_outside_tolerance", "Valid signature, timestamp = now - 301 (tolerance 300 s)."),
        ("stale_boundary_300", NOW - 300, "accepted", "Valid signature, timestamp = now - 300: exactly at the tolerance, accepted."),
        ("stale_inside_tolerance", NOW - 299, "accepted", "Valid signature, timestamp = now - 299: inside tolerance."),
        ("future_inside_tolerance", NOW + 299, "accepted", "Valid signature, timestamp = now + 299: inside tolerance."),
        ("future_boundary_300", NOW + 300, "accepted", "Valid signature, timestamp = now + 300: exactly at the tolerance, accepted."),
        ("future_timestamp", NOW + 301, "timestamp_outside_tolerance", "Valid signature, timestamp = now + 301: too new (the SDK uses abs())."),
    ]:
        add(p, sdk, case, desc, [SLACK_NEW], h(ts, slack_sig(SLACK_NEW, ts, SLACK_BODY)), SLACK_BODY, expected,
            verify=v, **ev)


# --------------------------------------------------------------------------------------------------------------
# GitHub (no official Python SDK: documented scheme with hmac)
# --------------------------------------------------------------------------------------------------------------

# https://docs.github.com/webhooks/using-webhooks/validating-webhook-deliveries#testing-the-webhook-payload-validation
GITHUB_DOCS_SECRET = "It's a Secret to Everybody"
GITHUB_DOCS_BODY = "Hello, World!"
GITHUB_DOCS_SIGNATURE = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"


def build_github():
    p, sdk = "github", SDK_HMAC
    ev = dict(event_id=GITHUB_DELIVERY, event_type="issues")

    def h(sig, delivery=GITHUB_DELIVERY, event="issues", sha1=None):
        out = {}
        if sig is not None:
            out["X-Hub-Signature-256"] = sig
        if sha1 is not None:
            out["X-Hub-Signature"] = sha1
        out["X-GitHub-Delivery"] = delivery
        out["X-GitHub-Event"] = event
        out["X-GitHub-Hook-ID"] = "292430182"
        return out

    assert github_sig(GITHUB_DOCS_SECRET, GITHUB_DOCS_BODY) == GITHUB_DOCS_SIGNATURE, "GitHub docs test vector"
    good = github_sig(GITHUB_NEW, GITHUB_BODY)
    sha1 = "sha1=" + hmac.new(GITHUB_NEW.encode(), GITHUB_BODY.encode(), hashlib.sha1).hexdigest()

    add(p, sdk, "valid", "issues/opened delivery signed with the configured secret.",
        [GITHUB_NEW], h(good), GITHUB_BODY, "accepted", **ev)
    add(p, sdk, "docs_example", "GitHub's documented test vector: secret \"It's a Secret to Everybody\", body 'Hello, World!'.",
        [GITHUB_DOCS_SECRET], h(GITHUB_DOCS_SIGNATURE, delivery="f0a1b2c3-0000-11f0-8000-000000000001", event="ping"),
        GITHUB_DOCS_BODY, "accepted", event_id="f0a1b2c3-0000-11f0-8000-000000000001", event_type="ping")
    add(p, sdk, "valid_non_ascii_body", "Raw UTF-8 comment body (accents, emoji, CJK).",
        [GITHUB_NEW], h(github_sig(GITHUB_NEW, GITHUB_BODY_UTF8), delivery=GITHUB_DELIVERY_UTF8, event="issue_comment"),
        GITHUB_BODY_UTF8, "accepted", event_id=GITHUB_DELIVERY_UTF8, event_type="issue_comment")
    add(p, sdk, "valid_escaped_body", "push payload whose commit message carries literal \\u001b and \\n escapes; hash the raw bytes.",
        [GITHUB_NEW], h(github_sig(GITHUB_NEW, GITHUB_BODY_ESC), delivery=GITHUB_DELIVERY_ESC, event="push"),
        GITHUB_BODY_ESC, "accepted", event_id=GITHUB_DELIVERY_ESC, event_type="push")
    add(p, sdk, "with_legacy_sha1_header", "Both X-Hub-Signature-256 and the legacy SHA-1 X-Hub-Signature, as GitHub sends them.",
        [GITHUB_NEW], h(good, sha1=sha1), GITHUB_BODY, "accepted", **ev)
    add(p, sdk, "legacy_sha1_only",
        "Only the legacy SHA-1 X-Hub-Signature (valid). Inlet refuses it unless allow_legacy_signatures is set: "
        "reason legacy_signature_refused (beyond the brief's list; from the github profile).",
        [GITHUB_NEW], h(None, sha1=sha1), GITHUB_BODY, "legacy_signature_refused")
    add(p, sdk, "lowercase_header_names", "Same delivery with lower-case header names (HTTP/2).",
        [GITHUB_NEW], {k.lower(): val for k, val in h(good).items()}, GITHUB_BODY, "accepted", **ev)
    add(p, sdk, "tampered_body", "Signature for the original body; issue number changed in transit.",
        [GITHUB_NEW], h(good), GITHUB_BODY_TAMPERED, "signature_mismatch")
    add(p, sdk, "wrong_secret", "Signed with a secret the receiver does not have.",
        [GITHUB_NEW], h(github_sig(GITHUB_WRONG, GITHUB_BODY)), GITHUB_BODY, "signature_mismatch")
    add(p, sdk, "rotated_old_secret", "Receiver holds [new, old]; delivery signed with the old secret.",
        [GITHUB_NEW, GITHUB_OLD], h(github_sig(GITHUB_OLD, GITHUB_BODY)), GITHUB_BODY, "accepted", **ev)
    add(p, sdk, "rotated_new_secret", "Receiver holds [new, old]; delivery signed with the new secret.",
        [GITHUB_NEW, GITHUB_OLD], h(good), GITHUB_BODY, "accepted", **ev)
    add(p, sdk, "body_trailing_newline", "Signature for the body without a trailing newline; '\\n' appended in transit.",
        [GITHUB_NEW], h(good), GITHUB_BODY + "\n", "signature_mismatch")
    add(p, sdk, "uppercase_hex", "Correct signature in upper-case hex; compared as the exact lower-case string.",
        [GITHUB_NEW], h("sha256=" + good[len("sha256="):].upper()), GITHUB_BODY, "signature_mismatch")
    add(p, sdk, "truncated_signature", "sha256 hex with the last two characters removed.",
        [GITHUB_NEW], h(good[:-2]), GITHUB_BODY, "signature_mismatch")
    add(p, sdk, "missing_signature", "Neither X-Hub-Signature-256 nor X-Hub-Signature.",
        [GITHUB_NEW], h(None), GITHUB_BODY, "missing_signature")
    add(p, sdk, "malformed_signature", "X-Hub-Signature-256 is the bare hex without the 'sha256=' prefix.",
        [GITHUB_NEW], h(good[len("sha256="):]), GITHUB_BODY, "malformed_signature")
    add(p, sdk, "empty_signature", "X-Hub-Signature-256 present with an empty value.",
        [GITHUB_NEW], h(""), GITHUB_BODY, "malformed_signature")


# --------------------------------------------------------------------------------------------------------------
# Shopify (no official Python SDK for webhook HMAC: documented scheme with hmac)
# --------------------------------------------------------------------------------------------------------------


def build_shopify():
    p, sdk = "shopify", SDK_HMAC
    ev = dict(event_id=SHOPIFY_EVENT_ID, event_type="orders/create")

    def h(sig, event_id=SHOPIFY_EVENT_ID, topic="orders/create"):
        out = {}
        if sig is not None:
            out["X-Shopify-Hmac-Sha256"] = sig
        out["X-Shopify-Topic"] = topic
        out["X-Shopify-Event-Id"] = event_id
        out["X-Shopify-Webhook-Id"] = SHOPIFY_WEBHOOK_ID
        out["X-Shopify-Shop-Domain"] = "inlet-fixtures.myshopify.com"
        out["X-Shopify-API-Version"] = "2026-01"
        out["X-Shopify-Triggered-At"] = "2025-12-31T23:59:58.123456789Z"
        return out

    good = shopify_sig(SHOPIFY_NEW, SHOPIFY_BODY)

    add(p, sdk, "valid", "orders/create with raw UTF-8 text (Crème brûlée, Montréal, Québec) signed with the app secret.",
        [SHOPIFY_NEW], h(good), SHOPIFY_BODY, "accepted", **ev)
    add(p, sdk, "valid_escaped_body", "products/update body with Shopify's \\u003c / \\u001b / \\/ escapes kept verbatim.",
        [SHOPIFY_NEW], h(shopify_sig(SHOPIFY_NEW, SHOPIFY_BODY_ESC), event_id=SHOPIFY_EVENT_ID_ESC, topic="products/update"),
        SHOPIFY_BODY_ESC, "accepted", event_id=SHOPIFY_EVENT_ID_ESC, event_type="products/update")
    add(p, sdk, "tampered_body", "Signature for the original body; total_price changed in transit.",
        [SHOPIFY_NEW], h(good), SHOPIFY_BODY_TAMPERED, "signature_mismatch")
    add(p, sdk, "wrong_secret", "Signed with a secret the receiver does not have.",
        [SHOPIFY_NEW], h(shopify_sig(SHOPIFY_WRONG, SHOPIFY_BODY)), SHOPIFY_BODY, "signature_mismatch")
    add(p, sdk, "rotated_old_secret", "Receiver holds [new, old]; request signed with the old secret.",
        [SHOPIFY_NEW, SHOPIFY_OLD], h(shopify_sig(SHOPIFY_OLD, SHOPIFY_BODY)), SHOPIFY_BODY, "accepted", **ev)
    add(p, sdk, "rotated_new_secret", "Receiver holds [new, old]; request signed with the new secret.",
        [SHOPIFY_NEW, SHOPIFY_OLD], h(good), SHOPIFY_BODY, "accepted", **ev)
    add(p, sdk, "body_trailing_newline", "Signature for the body without a trailing newline; '\\n' appended in transit.",
        [SHOPIFY_NEW], h(good), SHOPIFY_BODY + "\n", "signature_mismatch")
    add(p, sdk, "hex_instead_of_base64", "Right HMAC but hex-encoded instead of base64: well-formed for a plain header, no match.",
        [SHOPIFY_NEW], h(hmac_sha256(SHOPIFY_NEW.encode(), SHOPIFY_BODY.encode()).hex()), SHOPIFY_BODY, "signature_mismatch")
    add(p, sdk, "truncated_signature", "Base64 signature with its last 4 characters removed.",
        [SHOPIFY_NEW], h(good[:-4]), SHOPIFY_BODY, "signature_mismatch")
    add(p, sdk, "missing_signature", "No X-Shopify-Hmac-Sha256 header.",
        [SHOPIFY_NEW], h(None), SHOPIFY_BODY, "missing_signature")
    add(p, sdk, "malformed_signature", "X-Shopify-Hmac-Sha256 present with an empty value (nothing parseable).",
        [SHOPIFY_NEW], h(""), SHOPIFY_BODY, "malformed_signature")


# --------------------------------------------------------------------------------------------------------------
# Checks and output
# --------------------------------------------------------------------------------------------------------------


def reference_check_plain(f: dict) -> None:
    """Sanity for github/shopify: an exact-compare reference verifier agrees with `expected`."""
    if f["provider"] == "github":
        value = header_get(f["headers"], "X-Hub-Signature-256")
        ok = plain_reference_accepts(lambda s: github_sig(s, f["body"]), value, f["secrets"])
    else:
        value = header_get(f["headers"], "X-Shopify-Hmac-Sha256")
        ok = plain_reference_accepts(lambda s: shopify_sig(s, f["body"]), value, f["secrets"])
    if f["case"] == "legacy_sha1_only":
        sha1 = header_get(f["headers"], "X-Hub-Signature")
        assert sha1 == "sha1=" + hmac.new(f["secrets"][0].encode(), f["body"].encode(), hashlib.sha1).hexdigest()
        assert not ok
        return
    assert ok == (f["expected"] == "accepted"), (f["provider"], f["case"], ok, f["expected"])


def check(fixtures: list[dict]) -> None:
    seen = set()
    for f in fixtures:
        key = (f["provider"], f["case"])
        assert key not in seen, f"duplicate case {key}"
        seen.add(key)
        assert f["secrets"] and all(isinstance(s, str) and s for s in f["secrets"]), key
        if f["expected"] == "accepted":
            assert f["expected_event_id"] and f["expected_event_type"], key
        else:
            assert f["expected_event_id"] is None and f["expected_event_type"] is None, key
        if f["provider"] in ("github", "shopify"):
            assert f["sdk_accepts"] is None, key
            reference_check_plain(f)
            continue
        assert isinstance(f["sdk_accepts"], bool), key
        inlet_accepts = f["expected"] == "accepted"
        if key in DOCUMENTED_DIVERGENCES:
            assert f["sdk_accepts"] != inlet_accepts, f"documented divergence {key} no longer diverges"
            assert "DIVERGENCE" in f["description"], key
        else:
            assert f["sdk_accepts"] == inlet_accepts, f"SDK disagrees with expected for {key}: {f}"

    required = {"valid", "tampered_body", "wrong_secret", "rotated_old_secret", "body_trailing_newline", "missing_signature"}
    timestamped = {"stale_timestamp", "stale_inside_tolerance", "future_timestamp"}
    for provider in ("stripe", "standard-webhooks", "svix", "slack", "github", "shopify"):
        cases = {c for (p, c) in seen if p == provider}
        need = set(required)
        if provider in ("stripe", "standard-webhooks", "svix", "slack"):
            need |= timestamped
        if provider in ("stripe", "standard-webhooks", "svix"):
            need |= {"multiple_signatures_one_valid", "unknown_scheme_ignored"}
        if provider in ("standard-webhooks", "svix", "slack"):
            need |= {"missing_timestamp"}
        assert need <= cases, f"{provider} lacks {sorted(need - cases)}"
    bodies = [f["body"] for f in fixtures]
    assert any(any(ord(ch) > 127 for ch in b) for b in bodies), "no non-ASCII body"
    assert any("\\u001b" in b for b in bodies), "no body with \\u001b escapes"


def render(fixtures: list[dict]) -> str:
    ordered = sorted(fixtures, key=lambda f: (f["provider"], f["case"]))
    return json.dumps(ordered, indent=2, ensure_ascii=False) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="regenerate in memory and fail if the file on disk differs")
    parser.add_argument("--output", type=Path, default=OUT)
    args = parser.parse_args()

    build_stripe()
    build_stdwh_like(svix_flavour=False)
    build_stdwh_like(svix_flavour=True)
    build_slack()
    build_github()
    build_shopify()
    check(FIXTURES)
    text = render(FIXTURES)

    # Determinism: building a second time must give the same bytes.
    first = list(FIXTURES)
    FIXTURES.clear()
    SDK_ODDITIES.clear()
    build_stripe()
    build_stdwh_like(svix_flavour=False)
    build_stdwh_like(svix_flavour=True)
    build_slack()
    build_github()
    build_shopify()
    assert render(FIXTURES) == text, "fixture generation is not deterministic"
    del first

    counts: dict[str, int] = {}
    for f in FIXTURES:
        counts[f["provider"]] = counts.get(f["provider"], 0) + 1

    if args.check:
        current = args.output.read_text(encoding="utf-8") if args.output.exists() else ""
        if current != text:
            print(f"{args.output} is out of date; rerun without --check", file=sys.stderr)
            return 1
        print(f"{args.output} is up to date ({len(FIXTURES)} fixtures)")
    else:
        args.output.write_text(text, encoding="utf-8")
        print(f"wrote {len(FIXTURES)} fixtures to {args.output}")

    print("SDKs: " + ", ".join([SDK_STRIPE, SDK_STDWH, SDK_SVIX, SDK_SLACK, SDK_HMAC]))
    print("per provider: " + ", ".join(f"{p}={n}" for p, n in sorted(counts.items())))
    for (p, c), why in DOCUMENTED_DIVERGENCES.items():
        print(f"documented divergence {p}/{c}: {why}")
    for note in sorted(set(SDK_ODDITIES)):
        print("SDK note: " + note)
    for note in FACT_NOTES:
        print("FACT MISMATCH: " + note)
    return 0


if __name__ == "__main__":
    sys.exit(main())
