#!/usr/bin/env python3
"""Known-answer fixtures for the profiles that have no vectors in provider_vectors.json and no fixture in
sdk_fixtures.json. Written to more_fixtures.json, in the same schema as sdk_fixtures.json, plus optional keys:
method, query, public_url, verify_token, expected_response (for handshakes, expected = "handshake").

Each signature is computed independently of Inlet: with the provider's official library where PyPI has one
(svix for Clerk and Resend, PyNaCl for Discord, whose docs use it), otherwise with Python's hmac module following
the provider's documented scheme (see ../../../../shared/providers.md). Deterministic: fixed secrets, keys and
`now`. Run:  python3 -m venv /tmp/v && /tmp/v/bin/pip install svix pynacl && /tmp/v/bin/python generate_more_fixtures.py
Add --check to verify that the committed file is current.
"""
import base64
import hashlib
import hmac
import json
import os
import sys

try:
    import nacl.signing
    import svix
    from svix.webhooks import Webhook as SvixWebhook
except ImportError as e:  # pragma: no cover
    sys.exit(f"missing SDK ({e}); pip install svix pynacl")

NOW = 1767225600  # 2026-01-01T00:00:00Z
# Shipped with the profiles (providers/fixtures/), where `inlet providers test NAME` reads them.
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "..", "providers", "fixtures", "more_fixtures.json")
HMAC_DOC = "python hmac (documented scheme)"
fixtures = []


def hexmac(key, msg, algo=hashlib.sha256):
    return hmac.new(key.encode(), msg.encode() if isinstance(msg, str) else msg, algo).hexdigest()


def b64mac(key, msg, algo=hashlib.sha256):
    return base64.b64encode(hmac.new(key.encode(), msg.encode(), algo).digest()).decode()


def add(provider, sdk, case, secrets, headers, body, expected, event_id=None, event_type=None, **extra):
    f = {"provider": provider, "sdk": sdk, "case": case, "secrets": secrets, "headers": headers, "body": body,
         "now": extra.pop("now", NOW), "sdk_accepts": None, "expected": expected,
         "expected_event_id": event_id if expected == "accepted" else None,
         "expected_event_type": event_type if expected == "accepted" else None}
    f.update(extra)
    fixtures.append(f)


def body_only_hmac(provider, header, sign, secret, body, event_id, event_type, extra_headers=None, token=False):
    """The standard matrix for a scheme whose signature covers the body only (or, for tokens, nothing)."""
    extra_headers = extra_headers or {}
    good = {header: sign(secret, body), **extra_headers}
    add(provider, HMAC_DOC, "valid", [secret], good, body, "accepted", event_id, event_type)
    if not token:
        add(provider, HMAC_DOC, "tampered_body", [secret], good, body.replace("1", "2", 1), "signature_mismatch")
        add(provider, HMAC_DOC, "body_trailing_newline", [secret], good, body + "\n", "signature_mismatch")
    add(provider, HMAC_DOC, "wrong_secret", ["not-" + secret], good, body, "signature_mismatch")
    add(provider, HMAC_DOC, "rotated_old_secret", ["new-" + secret, secret], good, body, "accepted", event_id, event_type)
    add(provider, HMAC_DOC, "missing_signature", [secret], dict(extra_headers), body, "missing_signature")


# --- Body-only HMAC and token schemes -------------------------------------------------------------------------
push = '{"push":{"changes":[{"new":{"name":"main"}}]},"repository":{"full_name":"team/r\u00e9po"},"n":1}'
body_only_hmac("bitbucket", "X-Hub-Signature", lambda k, b: "sha256=" + hexmac(k, b), "bb-secret", push,
               "5f2d6a5c-1b3e-4f0a-9d1c-7e8f9a0b1c2d", "repo:push",
               {"X-Request-UUID": "5f2d6a5c-1b3e-4f0a-9d1c-7e8f9a0b1c2d", "X-Event-Key": "repo:push"})
ic = '{"type":"notification_event","id":"notif_1","topic":"conversation.user.created","data":{"item":{"n":1}}}'
body_only_hmac("intercom", "X-Hub-Signature", lambda k, b: "sha1=" + hexmac(k, b, hashlib.sha1), "ic-secret", ic,
               "notif_1", "conversation.user.created")
tf = '{"event_id":"01HTYPEFORM","event_type":"form_response","form_response":{"answers":[{"n":1}]}}'
body_only_hmac("typeform", "Typeform-Signature", lambda k, b: "sha256=" + b64mac(k, b), "tf-secret", tf,
               "01HTYPEFORM", "form_response")
meta = '{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"field":"messages","value":{"n":1}}]}]}'
body_only_hmac("meta", "X-Hub-Signature-256", lambda k, b: "sha256=" + hexmac(k, b), "meta-app-secret", meta,
               hashlib.sha256(meta.encode()).hexdigest(), "whatsapp_business_account")
vc = '{"id":"evt_vercel_1","type":"deployment.succeeded","payload":{"n":1}}'
body_only_hmac("vercel", "x-vercel-signature", lambda k, b: hexmac(k, b, hashlib.sha1), "vc-secret", vc,
               "evt_vercel_1", "deployment.succeeded")
sentry = '{"action":"created","data":{"issue":{"id":"1"}},"installation":{"uuid":"u-1"}}'
body_only_hmac("sentry", "Sentry-Hook-Signature", lambda k, b: hexmac(k, b), "sentry-client-secret", sentry,
               "req-123", "issue", {"Request-ID": "req-123", "Sentry-Hook-Resource": "issue"})
gh = '{"id":"g1","type":"order.created","n":1}'
body_only_hmac("generic-hmac", "X-Signature", lambda k, b: "sha256=" + hexmac(k, b), "generic-secret", gh,
               "g-evt-1", "order.created", {"X-Event-Id": "g-evt-1"})
gl = '{"object_kind":"push","ref":"refs/heads/main","n":1}'
body_only_hmac("gitlab", "X-Gitlab-Token", lambda k, b: k, "gitlab-token", gl, "uuid-gl-1", "Push Hook",
               {"X-Gitlab-Event-UUID": "uuid-gl-1", "X-Gitlab-Event": "Push Hook"}, token=True)
okta = '{"eventType":"com.okta.event_hook","eventId":"e1","data":{"events":[{"uuid":"okta-uuid-1","eventType":"user.session.start"}]}}'
body_only_hmac("okta", "Authorization", lambda k, b: k, "okta-shared-secret", okta, "okta-uuid-1", "com.okta.event_hook",
               token=True)
gt = '{"type":"build.finished","n":1}'
body_only_hmac("generic-token", "X-Webhook-Token", lambda k, b: k, "long-random-token", gt, "gt-1", "build.finished",
               {"X-Event-Id": "gt-1"}, token=True)
add("generic-token", HMAC_DOC, "token_in_query", ["long-random-token"], {}, gt, "accepted",
    hashlib.sha256(gt.encode()).hexdigest(), "build.finished", query="token=long-random-token")
add("generic-token", HMAC_DOC, "wrong_token_in_query", ["long-random-token"], {}, gt, "signature_mismatch", query="token=nope")

# --- Timestamped HMAC schemes ----------------------------------------------------------------------------------
def stripe_like(provider, header, secret, body, tolerance, event_id, event_type, future=3600):
    def hdr(t, key=secret):
        return {header: f"t={t},v1={hexmac(key, f'{t}.{body}')}"}
    add(provider, HMAC_DOC, "valid", [secret], hdr(NOW - 10), body, "accepted", event_id, event_type)
    add(provider, HMAC_DOC, "tampered_body", [secret], hdr(NOW), body.replace("1", "2", 1), "signature_mismatch")
    add(provider, HMAC_DOC, "wrong_secret", [secret], hdr(NOW, "other"), body, "signature_mismatch")
    add(provider, HMAC_DOC, "rotated_old_secret", ["new-secret", secret], hdr(NOW), body, "accepted", event_id, event_type)
    add(provider, HMAC_DOC, "stale_timestamp", [secret], hdr(NOW - tolerance - 1), body, "timestamp_outside_tolerance")
    add(provider, HMAC_DOC, "tolerance_edge", [secret], hdr(NOW - tolerance), body, "accepted", event_id, event_type)
    # The SDKs bound only the past; Inlet bounds the future generously (1 h), so a lagging clock refuses nothing genuine.
    add(provider, HMAC_DOC, "future_beyond_tolerance", [secret], hdr(NOW + tolerance + 1), body, "accepted", event_id, event_type)
    add(provider, HMAC_DOC, "future_timestamp", [secret], hdr(NOW + future + 1), body, "timestamp_outside_tolerance")
    add(provider, HMAC_DOC, "missing_signature", [secret], {}, body, "missing_signature")
    add(provider, HMAC_DOC, "malformed_signature", [secret], {header: "garbage"}, body, "malformed_signature")


mux = '{"id":"mux-evt-1","type":"video.asset.ready","data":{"n":1}}'
stripe_like("mux", "mux-signature", "mux-secret", mux, 300, "mux-evt-1", "video.asset.ready")
cal = '{"event":"invitee.created","created_at":"2026-01-01T00:00:00Z","payload":{"n":1}}'
stripe_like("calendly", "Calendly-Webhook-Signature", "calendly-key", cal, 180, hashlib.sha256(cal.encode()).hexdigest(),
            "invitee.created")

# Zoom: v0=<hex HMAC(secret, "v0:{ts}:{body}")>, x-zm-request-timestamp; endpoint.url_validation handshake.
zsecret = "zoom-secret-token"
zbody = '{"event":"meeting.started","event_ts":1767225600000,"payload":{"object":{"id":"1"},"n":1}}'
def zoom(ts, body=zbody, key=zsecret):
    return {"x-zm-signature": "v0=" + hexmac(key, f"v0:{ts}:{body}"), "x-zm-request-timestamp": str(ts)}
add("zoom", HMAC_DOC, "valid", [zsecret], zoom(NOW), zbody, "accepted", hashlib.sha256(zbody.encode()).hexdigest(), "meeting.started")
add("zoom", HMAC_DOC, "tampered_body", [zsecret], zoom(NOW), zbody.replace("1", "2", 1), "signature_mismatch")
add("zoom", HMAC_DOC, "wrong_secret", [zsecret], zoom(NOW, key="x"), zbody, "signature_mismatch")
add("zoom", HMAC_DOC, "stale_timestamp", [zsecret], zoom(NOW - 301), zbody, "timestamp_outside_tolerance")
add("zoom", HMAC_DOC, "missing_timestamp", [zsecret], {"x-zm-signature": zoom(NOW)["x-zm-signature"]}, zbody, "missing_timestamp")
zval = '{"payload":{"plainToken":"qgg8vlvZRS6UYooatFL8Aw"},"event_ts":1654503849680,"event":"endpoint.url_validation"}'
enc = hexmac(zsecret, "qgg8vlvZRS6UYooatFL8Aw")
add("zoom", HMAC_DOC, "url_validation", [zsecret], zoom(NOW, zval), zval, "handshake",
    expected_response={"status": 200, "content_type": "application/json",
                       "body": '{"plainToken":"qgg8vlvZRS6UYooatFL8Aw","encryptedToken":"%s"}' % enc})
add("zoom", HMAC_DOC, "url_validation_forged", [zsecret], zoom(NOW, zval, "x"), zval, "signature_mismatch")

# Twitch EventSub: sha256=<hex HMAC(secret, id + ts + body)>, RFC 3339 timestamp with nanoseconds, 10 min.
tsecret = "twitch-secret-0123456789"
tid = "e76c6bd4-55c9-4987-8304-da1588d8988b"
tbody = '{"subscription":{"type":"channel.follow"},"event":{"user_id":"1","n":1}}'
def twitch(ts, body=tbody, key=tsecret, kind="notification"):
    return {"Twitch-Eventsub-Message-Id": tid, "Twitch-Eventsub-Message-Timestamp": ts,
            "Twitch-Eventsub-Message-Signature": "sha256=" + hexmac(key, tid + ts + body),
            "Twitch-Eventsub-Message-Type": kind, "Twitch-Eventsub-Subscription-Type": "channel.follow"}
add("twitch", HMAC_DOC, "valid", [tsecret], twitch("2025-12-31T23:59:30.123456789Z"), tbody, "accepted", tid, "channel.follow")
add("twitch", HMAC_DOC, "tampered_body", [tsecret], twitch("2026-01-01T00:00:00.000000000Z"), tbody.replace("1", "2", 1), "signature_mismatch")
add("twitch", HMAC_DOC, "wrong_secret", [tsecret], twitch("2026-01-01T00:00:00Z", key="other-secret-123"), tbody, "signature_mismatch")
add("twitch", HMAC_DOC, "stale_timestamp", [tsecret], twitch("2025-12-31T23:49:59Z"), tbody, "timestamp_outside_tolerance")
add("twitch", HMAC_DOC, "malformed_timestamp", [tsecret], twitch("yesterday"), tbody, "malformed_timestamp")
cbody = '{"challenge":"pogchamp-kappa-360noscope-vohiyo","subscription":{"type":"channel.follow"}}'
add("twitch", HMAC_DOC, "callback_verification", [tsecret], twitch("2026-01-01T00:00:00Z", cbody, kind="webhook_callback_verification"),
    cbody, "handshake", expected_response={"status": 200, "content_type": "text/plain", "body": "pogchamp-kappa-360noscope-vohiyo"})

# Linear: hex HMAC over the body; the signed body carries webhookTimestamp (ms), ±60 s.
lsecret = "linear-secret"
def linear_body(ts_ms):
    return '{"action":"create","type":"Issue","data":{"id":"1"},"webhookTimestamp":%d}' % ts_ms
for case, ts, expected in [("valid", NOW * 1000 - 59_000, "accepted"), ("stale_timestamp", NOW * 1000 - 61_000, "timestamp_outside_tolerance"),
                           ("future_timestamp", NOW * 1000 + 61_000, "timestamp_outside_tolerance")]:
    b = linear_body(ts)
    add("linear", HMAC_DOC, case, [lsecret], {"linear-signature": hexmac(lsecret, b), "Linear-Delivery": "ld-1"}, b, expected, "ld-1", "Issue")
b = linear_body(NOW * 1000)
add("linear", HMAC_DOC, "tampered_body", [lsecret], {"linear-signature": hexmac(lsecret, b)}, b.replace("create", "update"), "signature_mismatch")
add("linear", HMAC_DOC, "wrong_secret", [lsecret], {"linear-signature": hexmac("x", b)}, b, "signature_mismatch")
add("linear", HMAC_DOC, "rotated_old_secret", ["new", lsecret], {"linear-signature": hexmac(lsecret, b), "Linear-Delivery": "ld-2"}, b,
    "accepted", "ld-2", "Issue")

# Mailgun: signature inside the body over timestamp + token.
mkey = "key-mailgun-signing"
def mailgun(ts, token="tok-123", key=mkey, sig=None):
    s = sig or hexmac(key, f"{ts}{token}")
    return ('{"signature":{"timestamp":"%d","token":"%s","signature":"%s"},"event-data":{"id":"mg-1","event":"delivered"}}'
            % (ts, token, s))
# The dedup key is the signed token (Mailgun: refuse a token seen before), not the unsigned event-data.id.
add("mailgun", HMAC_DOC, "valid", [mkey], {}, mailgun(NOW - 10), "accepted", "tok-123", "delivered")
add("mailgun", HMAC_DOC, "wrong_secret", [mkey], {}, mailgun(NOW, key="other"), "signature_mismatch")
add("mailgun", HMAC_DOC, "rotated_old_secret", ["new-key", mkey], {}, mailgun(NOW), "accepted", "tok-123", "delivered")
add("mailgun", HMAC_DOC, "stale_timestamp", [mkey], {}, mailgun(NOW - 301), "timestamp_outside_tolerance")
add("mailgun", HMAC_DOC, "tampered_token", [mkey], {}, mailgun(NOW, sig=hexmac(mkey, f"{NOW}other")), "signature_mismatch")
add("mailgun", HMAC_DOC, "missing_signature", [mkey], {}, '{"event-data":{"id":"mg-1"}}', "missing_signature")

# --- Svix-delivered providers (official svix library) ------------------------------------------------------------
for provider in ["clerk", "resend"]:
    secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    other = "whsec_" + base64.b64encode(b"another-secret-of-24-byt").decode()
    body = '{"type":"user.created","data":{"id":"user_29w83sxmDNGwOuEthce5gg56FcC","n":1}}'
    wh = SvixWebhook(secret)
    sdk = f"svix {getattr(svix, '__version__', '')}".strip()
    def signed(ts, key=secret):
        from datetime import datetime, timezone
        sig = SvixWebhook(key).sign("msg_2ZgLkG7cCsI0E2GQ4iJ3i6", datetime.fromtimestamp(ts, tz=timezone.utc), body)
        return {"svix-id": "msg_2ZgLkG7cCsI0E2GQ4iJ3i6", "svix-timestamp": str(ts), "svix-signature": sig}
    add(provider, sdk, "valid", [secret], signed(NOW), body, "accepted", "msg_2ZgLkG7cCsI0E2GQ4iJ3i6", "user.created")
    add(provider, sdk, "tampered_body", [secret], signed(NOW), body.replace("1", "2", 1), "signature_mismatch")
    add(provider, sdk, "wrong_secret", [other], signed(NOW), body, "signature_mismatch")
    add(provider, sdk, "rotated_old_secret", [other, secret], signed(NOW), body, "accepted", "msg_2ZgLkG7cCsI0E2GQ4iJ3i6", "user.created")
    add(provider, sdk, "stale_timestamp", [secret], signed(NOW - 301), body, "timestamp_outside_tolerance")
    add(provider, sdk, "missing_signature", [secret], {k: v for k, v in signed(NOW).items() if k != "svix-signature"}, body, "missing_signature")

# --- Discord (Ed25519 with PyNaCl) ------------------------------------------------------------------------------
dkey = nacl.signing.SigningKey(bytes(range(32)))
dold = nacl.signing.SigningKey(bytes(range(32, 64)))
dpub = dkey.verify_key.encode().hex()
dpub_old = dold.verify_key.encode().hex()
sdk = f"pynacl {nacl.__version__}"
def discord(body, ts=str(NOW), key=dkey):
    return {"X-Signature-Ed25519": key.sign((ts + body).encode()).signature.hex(), "X-Signature-Timestamp": ts}
cmd = '{"type":2,"id":"786008729715212338","data":{"name":"hello"},"application_id":"1"}'
add("discord", sdk, "valid", [dpub], discord(cmd), cmd, "accepted", "786008729715212338", "2")
add("discord", sdk, "tampered_body", [dpub], discord(cmd), cmd.replace("hello", "hellO"), "signature_mismatch")
add("discord", sdk, "wrong_key", [dpub_old], discord(cmd), cmd, "signature_mismatch")
add("discord", sdk, "rotated_old_key", [dpub, dpub_old], discord(cmd, key=dold), cmd, "accepted", "786008729715212338", "2")
edited = discord(cmd)
edited["X-Signature-Timestamp"] = str(NOW + 1)
add("discord", sdk, "timestamp_edited", [dpub], edited, cmd, "signature_mismatch")
add("discord", sdk, "missing_signature", [dpub], {"X-Signature-Timestamp": str(NOW)}, cmd, "missing_signature")
ping = '{"type":1,"id":"1","application_id":"2","version":1}'
add("discord", sdk, "interactions_ping", [dpub], discord(ping), ping, "handshake",
    expected_response={"status": 200, "content_type": "application/json", "body": '{"type":1}'})
wping = '{"version":1,"application_id":"2","type":0}'
add("discord", sdk, "webhook_events_ping", [dpub], discord(wping), wping, "handshake",
    expected_response={"status": 204, "content_type": None, "body": ""})

# --- GET verifications -------------------------------------------------------------------------------------------
add("meta", HMAC_DOC, "verify_token", ["meta-app-secret"], {}, "", "handshake", method="GET", verify_token="my-verify-token",
    query="hub.mode=subscribe&hub.verify_token=my-verify-token&hub.challenge=1158201444",
    expected_response={"status": 200, "content_type": "text/plain", "body": "1158201444"})
add("meta", HMAC_DOC, "verify_token_wrong", ["meta-app-secret"], {}, "", "handshake_refused", method="GET", verify_token="my-verify-token",
    query="hub.mode=subscribe&hub.verify_token=nope&hub.challenge=1")
add("okta", HMAC_DOC, "verification", ["okta-shared-secret"],
    {"Authorization": "okta-shared-secret", "X-Okta-Verification-Challenge": "abc123"}, "", "handshake", method="GET",
    expected_response={"status": 200, "content_type": "application/json", "body": '{"verification":"abc123"}'})
add("okta", HMAC_DOC, "verification_unauthorized", ["okta-shared-secret"],
    {"Authorization": "nope", "X-Okta-Verification-Challenge": "abc123"}, "", "signature_mismatch", method="GET")

# --- Slack handshake (the other Slack cases are in sdk_fixtures.json) ---------------------------------------------
ssecret = "8f742231b10e8888abcd99yyyzzz85a5"
uv = '{"token":"Jhj5dZrVaK7ZwHHjRyZWjbDl","challenge":"3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P","type":"url_verification"}'
add("slack", HMAC_DOC, "url_verification", [ssecret],
    {"X-Slack-Signature": "v0=" + hexmac(ssecret, f"v0:{NOW}:{uv}"), "X-Slack-Request-Timestamp": str(NOW)}, uv, "handshake",
    expected_response={"status": 200, "content_type": "application/json",
                       "body": '{"challenge":"3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"}'})
add("slack", HMAC_DOC, "url_verification_forged", [ssecret],
    {"X-Slack-Signature": "v0=" + hexmac("x", f"v0:{NOW}:{uv}"), "X-Slack-Request-Timestamp": str(NOW)}, uv, "signature_mismatch")

fixtures.sort(key=lambda f: (f["provider"], f["case"]))
text = json.dumps(fixtures, indent=2, ensure_ascii=False) + "\n"
if "--check" in sys.argv:
    current = open(OUT, encoding="utf-8").read()
    sys.exit(0 if current == text else "more_fixtures.json is out of date: regenerate it")
open(OUT, "w", encoding="utf-8").write(text)
print(f"{len(fixtures)} fixtures for {len({f['provider'] for f in fixtures})} profiles -> {OUT}")
