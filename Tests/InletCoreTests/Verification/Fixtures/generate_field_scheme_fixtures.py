#!/usr/bin/env python3
"""Known-answer fixtures for the signatures over fields and constructed texts: field_scheme_fixtures.json.

Braintree and Alipay cases are made and checked with the providers' official SDKs from PyPI; the SDK's decision is
recorded in `sdk` ("accepted" or the exception it raised). Kinde and Hygraph publish their helpers for Node only
(kinde-oss/webhook + kinde-oss/jwt-validator, hygraph/hygraph-utils): their cases are made with PyJWT and with a
line-for-line port of @hygraph/utils `generateWebhookSignature`, and `sdk` names the code they follow.

    python3 -m venv /tmp/venv-fields
    /tmp/venv-fields/bin/pip install braintree==4.48.0 alipay-sdk-python==3.7.1411 PyJWT==2.15.1 cryptography==50.0.2
    /tmp/venv-fields/bin/python Tests/InletCoreTests/Verification/Fixtures/generate_field_scheme_fixtures.py

Keys are made fresh on each run; only their public halves (and the test secrets) land in the JSON.
"""
import base64
import hashlib
import hmac
import json
import os
import time
import urllib.parse

import braintree
import jwt
from alipay.aop.api.util.SignatureUtils import get_sign_content, sign_with_rsa2, verify_with_rsa
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

NOW = int(time.time())
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "..", "providers", "fixtures", "field_scheme_fixtures.json")
fixtures = []


def add(provider, case, expected, headers, body, sdk, **extra):
    f = {"provider": provider, "case": case, "expected": expected, "headers": headers, "body": body, "now": NOW, "sdk": sdk}
    f.update(extra)
    fixtures.append(f)


def decision(fn):
    try:
        r = fn()
        return "refused: False" if r is False else "accepted"
    except Exception as e:  # the SDK's own refusal, as it named it
        return f"refused: {type(e).__name__}: {e}"[:160]


# --- Braintree (braintree 4.48.0) ----------------------------------------------------------------------------------
BT = "braintree 4.48.0"
PUB, PRIV = "fixturepublickey1", "0f3b9c2d4e5a6b7c8d9e0f1a2b3c4d5e"
gateway = braintree.BraintreeGateway(braintree.Configuration(braintree.Environment.Sandbox, "fixture_merchant", PUB, PRIV))
other = braintree.BraintreeGateway(braintree.Configuration(braintree.Environment.Sandbox, "fixture_merchant", PUB, "ffffffffffffffffffffffffffffffff"))
secret = f"{PUB}:{PRIV}"
form = {"Content-Type": "application/x-www-form-urlencoded"}


def bt_body(sig, payload, extra=()):
    return urllib.parse.urlencode([("bt_signature", sig), ("bt_payload", payload)] + list(extra))


def bt_parse(sig, payload):
    return decision(lambda: gateway.webhook_notification.parse(sig, payload))


sample = gateway.webhook_testing.sample_notification(braintree.WebhookNotification.Kind.SubscriptionWentPastDue, "sub_1234")
sig, payload = sample["bt_signature"], sample["bt_payload"].decode() if isinstance(sample["bt_payload"], bytes) else sample["bt_payload"]
add("braintree", "sample notification (SDK WebhookTesting.sample_notification)", "accepted", form, bt_body(sig, payload),
    f"{BT}: WebhookNotificationGateway.parse {bt_parse(sig, payload)}", secrets=[secret],
    expected_event_type="subscription_went_past_due")

dispute = gateway.webhook_testing.sample_notification(braintree.WebhookNotification.Kind.DisputeOpened, "dispute_1")
dsig, dpayload = dispute["bt_signature"], dispute["bt_payload"].decode()
add("braintree", "the pair with the configured public key among others", "accepted", form,
    bt_body(f"someoneelse|{'0' * 40}&{dsig}", dpayload), f"{BT}: parse {bt_parse(f'someoneelse|{chr(48) * 40}&{dsig}', dpayload)}",
    secrets=[secret], expected_event_type="dispute_opened")

# The SDK also accepts a signature over the payload followed by a newline (what Braintree signs when the form field
# loses its final line break).
stripped = payload.rstrip("\n")
nl_sig = f"{PUB}|" + braintree.util.crypto.Crypto.sha1_hmac_hash(PRIV, stripped + "\n")
add("braintree", "signature over the payload plus a newline", "accepted", form, bt_body(nl_sig, stripped),
    f"{BT}: parse {bt_parse(nl_sig, stripped)}", secrets=[secret], expected_event_type="subscription_went_past_due")

wrong = other.webhook_testing.sample_notification(braintree.WebhookNotification.Kind.SubscriptionWentPastDue, "sub_1234")
wsig, wpayload = wrong["bt_signature"], wrong["bt_payload"].decode()
add("braintree", "signed with another private key", "signature_mismatch", form, bt_body(wsig, wpayload),
    f"{BT}: parse {bt_parse(wsig, wpayload)}", secrets=[secret])

tampered = base64.encodebytes(base64.decodebytes(payload.encode()).replace(b"subscription_went_past_due", b"subscription_charged_successfully")).decode()
add("braintree", "payload changed after signing", "signature_mismatch", form, bt_body(sig, tampered),
    f"{BT}: parse {bt_parse(sig, tampered)}", secrets=[secret])

foreign = sig.replace(PUB, "anotherpublickey")
add("braintree", "no pair names the configured public key", "signature_mismatch", form, bt_body(foreign, payload),
    f"{BT}: parse {bt_parse(foreign, payload)}", secrets=[secret])

add("braintree", "bt_signature missing", "missing_signature", form, urllib.parse.urlencode([("bt_payload", payload)]),
    f"{BT}: parse(None, payload) {decision(lambda: gateway.webhook_notification.parse(None, payload))}", secrets=[secret])

add("braintree", "bt_payload sent twice (ambiguous)", "malformed_signature", form,
    bt_body(sig, payload, [("bt_payload", tampered)]), f"{BT}: a form dict keeps one value; Inlet refuses the ambiguity",
    secrets=[secret])

challenge = "20f9f8ed05f77439fe955c977e4c8a53"
add("braintree", "bt_challenge verification (SDK WebhookNotificationGateway.verify)", "handshake", {}, "",
    f"{BT}: verify -> {gateway.webhook_notification.verify(challenge)}", secrets=[secret], method="GET",
    query=f"bt_challenge={challenge}",
    expected_response={"status": 200, "content_type": "text/plain", "body": gateway.webhook_notification.verify(challenge)})

add("braintree", "bt_challenge that is not 20-32 lower-case hex digits", "handshake_refused", {}, "",
    f"{BT}: verify {decision(lambda: gateway.webhook_notification.verify('NOT-HEX-' + 'a' * 20))}", secrets=[secret],
    method="GET", query="bt_challenge=NOT-HEX-aaaaaaaaaaaaaaaaaaaa")


# --- Alipay (alipay-sdk-python 3.7.1411 signs; the Java SDK's rsaCheckV1 rule decides) ------------------------------
AP = "alipay-sdk-python 3.7.1411"
alipay_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
alipay_other = rsa.generate_private_key(public_exponent=65537, key_size=2048)


def pkcs1_body(key):
    # The SDK adds the PEM markers itself (fill_private_key_marker) and loads PKCS#1.
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()).decode()
    return "".join(pem.strip().splitlines()[1:-1])


def public_pem(key):
    return key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()


def public_body(key):
    return "".join(public_pem(key).strip().splitlines()[1:-1])


notify = {
    "gmt_create": "2026-12-03 10:15:30", "charset": "utf-8", "seller_email": "merchant@example.com",
    "subject": "订单 #42 & more", "buyer_id": "2088102177846880", "invoice_amount": "88.88",
    "notify_id": "2026120300222101530093591433474420", "fund_bill_list": '[{"amount":"88.88","fundChannel":"ALIPAYACCOUNT"}]',
    "notify_type": "trade_status_sync", "trade_status": "TRADE_SUCCESS", "receipt_amount": "88.88",
    "app_id": "2021000000000000", "buyer_pay_amount": "88.88", "seller_id": "2088102177649450",
    "gmt_payment": "2026-12-03 10:15:31", "notify_time": "2026-12-03 10:15:32", "version": "1.0",
    "out_trade_no": "order-42", "total_amount": "88.88", "trade_no": "2026120322001446880500000001", "auth_app_id": "2021000000000000",
    "point_amount": "0.00",
}


def alipay_sign(params, key):
    return sign_with_rsa2(pkcs1_body(key), get_sign_content(params), "utf-8")


def alipay_check(params):
    # The SDK has no notification verifier: verify_with_rsa over its own canonical text, sign and sign_type removed.
    rest = {k: v for k, v in params.items() if k not in ("sign", "sign_type") and v != ""}
    return decision(lambda: verify_with_rsa(public_body(alipay_key), get_sign_content(rest).encode(), params["sign"]))


signed = dict(notify, sign=alipay_sign(notify, alipay_key), sign_type="RSA2")
order = list(signed.items())
add("alipay", "trade notification (SDK get_sign_content + sign_with_rsa2)", "accepted", form, urllib.parse.urlencode(order),
    f"{AP}: verify_with_rsa {alipay_check(signed)}", secrets=[public_pem(alipay_key)],
    expected_event_id=notify["notify_id"], expected_event_type="TRADE_SUCCESS")
add("alipay", "the same fields in another order", "accepted", form, urllib.parse.urlencode(list(reversed(order))),
    f"{AP}: verify_with_rsa {alipay_check(signed)}", secrets=[public_pem(alipay_key)], expected_event_id=notify["notify_id"])
with_empty = dict(signed, passback_params="")
add("alipay", "an empty field is not signed (Java SDK getSignCheckContentV1)", "accepted", form, urllib.parse.urlencode(list(with_empty.items())),
    f"{AP}: verify_with_rsa {alipay_check(with_empty)}", secrets=[public_pem(alipay_key)], expected_event_id=notify["notify_id"])
changed = dict(signed, total_amount="0.01")
add("alipay", "an amount changed after signing", "signature_mismatch", form, urllib.parse.urlencode(list(changed.items())),
    f"{AP}: verify_with_rsa {alipay_check(changed)}", secrets=[public_pem(alipay_key)])
added = dict(signed, refund_fee="88.88")
add("alipay", "a field added after signing", "signature_mismatch", form, urllib.parse.urlencode(list(added.items())),
    f"{AP}: verify_with_rsa {alipay_check(added)}", secrets=[public_pem(alipay_key)])
add("alipay", "checked with another public key", "signature_mismatch", form, urllib.parse.urlencode(order),
    f"{AP}: verify_with_rsa with the other key {decision(lambda: verify_with_rsa(public_body(alipay_other), get_sign_content(notify).encode(), signed['sign']))}",
    secrets=[public_pem(alipay_other)])
add("alipay", "sign missing", "missing_signature", form, urllib.parse.urlencode([(k, v) for k, v in order if k != "sign"]),
    f"{AP}: nothing to verify", secrets=[public_pem(alipay_key)])
add("alipay", "a field sent twice (ambiguous)", "malformed_signature", form, urllib.parse.urlencode(order + [("total_amount", "0.01")]),
    f"{AP}: a form dict keeps one value; Inlet refuses the ambiguity", secrets=[public_pem(alipay_key)])


# --- Kinde (kinde-oss/webhook + kinde-oss/jwt-validator: RS256, key by kid from <domain>/.well-known/jwks.json) -------
KD = "follows kinde-oss/jwt-validator@e6166dc jwtVerify (RS256, JWK by kid); made with PyJWT 2.15.1"
kinde_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
kinde_other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(kinde_key.public_key()))
jwk.update({"kid": "kinde-key-1", "alg": "RS256", "use": "sig"})
jwks = json.dumps({"keys": [jwk]})
JWKS_URL = "https://example.kinde.com/.well-known/jwks.json"
claims = {"type": "user.created", "event_id": "event_0190a1b2c3d4e5f6", "source": "admin", "timestamp": "2026-12-03T10:15:30.000Z",
          "data": {"user": {"id": "kp_1234567890", "email": "new.user@example.com", "first_name": "New", "last_name": "User"}}}
jwt_headers = {"Content-Type": "application/jwt", "webhook-id": "msg_2x9"}
good = jwt.encode(claims, kinde_key, algorithm="RS256", headers={"kid": "kinde-key-1"})
add("kinde", "user.created, RS256, key from the JWKS by kid", "accepted", jwt_headers, good, KD, jwks=jwks, jwks_url=JWKS_URL,
    expected_event_id="event_0190a1b2c3d4e5f6", expected_event_type="user.created")
add("kinde", "signed with a key not in the JWKS (same kid)", "signature_mismatch", jwt_headers,
    jwt.encode(claims, kinde_other, algorithm="RS256", headers={"kid": "kinde-key-1"}), KD, jwks=jwks, jwks_url=JWKS_URL)
add("kinde", "a kid the JWKS does not have", "signing_key_unknown", jwt_headers,
    jwt.encode(claims, kinde_key, algorithm="RS256", headers={"kid": "kinde-key-9"}), KD, jwks=jwks, jwks_url=JWKS_URL)
h, p, s = good.split(".")
forged_claims = base64.urlsafe_b64encode(json.dumps(dict(claims, type="user.deleted")).encode()).decode().rstrip("=")
add("kinde", "claims changed after signing", "signature_mismatch", jwt_headers, f"{h}.{forged_claims}.{s}", KD, jwks=jwks, jwks_url=JWKS_URL)
none_header = base64.urlsafe_b64encode(b'{"alg":"none","kid":"kinde-key-1"}').decode().rstrip("=")
add("kinde", "alg none", "jwt_algorithm_refused", jwt_headers, f"{none_header}.{p}.", KD, jwks=jwks, jwks_url=JWKS_URL)
pub_pem = kinde_key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
hs_header = base64.urlsafe_b64encode(b'{"alg":"HS256","kid":"kinde-key-1","typ":"JWT"}').decode().rstrip("=")
hs_sig = base64.urlsafe_b64encode(hmac.new(pub_pem, f"{hs_header}.{p}".encode(), hashlib.sha256).digest()).decode().rstrip("=")
add("kinde", "HS256 keyed with the RSA public key (HS/RS confusion)", "jwt_algorithm_refused", jwt_headers, f"{hs_header}.{p}.{hs_sig}",
    KD, jwks=jwks, jwks_url=JWKS_URL)


# --- Hygraph (port of hygraph/hygraph-utils@0e6d9c7 index.js generateWebhookSignature) -----------------------------
HY = "port of hygraph/hygraph-utils@0e6d9c7 index.js generateWebhookSignature (JSON.stringify + escapeHTMLChars)"
HSECRET = "rCNwyiloY3oJYYkxgpBXaleIiUv5MYlx"  # the secret of @hygraph/utils' README and tests


def js_stringify_str(s):
    # JSON.stringify of a string: ", \\ and control characters escaped, everything else (non-ASCII too) as is.
    return json.dumps(s, ensure_ascii=False)


def hygraph_sign(raw_body, env, t, secret=HSECRET):
    payload = "{" + f'"Body":{js_stringify_str(raw_body)},"EnvironmentName":{js_stringify_str(env)},"TimeStamp":{t}' + "}"
    payload = payload.replace("&", "\\\\u0026").replace("<", "\\\\u003c").replace(">", "\\\\u003e")  # escapeHTMLChars
    digest = base64.b64encode(hmac.new(secret.encode(), payload.encode(), hashlib.sha256).digest()).decode()
    return f"sign={digest}, env={env}, t={t}"


T = NOW * 1000
# What Hygraph (Go's encoding/json) sends: compact, with <, > and & escaped inside strings.
hbody = '{"operation":"publish","data":{"__typename":"Post","id":"ckx1","title":"Fish \\u0026 Chips \\u003cfresh\\u003e","stage":"PUBLISHED","locale":"fr-CH","body":"Café \\"au lait\\""}}'
hdr = hygraph_sign(hbody, "master", T)
add("hygraph", "publish, compact JSON as Hygraph sends it", "accepted", {"gcms-signature": hdr, "Content-Type": "application/json"}, hbody, HY,
    secrets=[HSECRET], expected_event_type="publish")
add("hygraph", "another environment name", "accepted", {"gcms-signature": hygraph_sign(hbody, "staging-2", T)}, hbody, HY,
    secrets=[HSECRET], expected_event_type="publish")
# A bare & in the raw body is written as @hygraph/utils writes it (escapeHTMLChars after JSON.stringify).
bare = '{"operation":"update","data":{"__typename":"Post","id":"ckx2","title":"R&D <beta>"}}'
add("hygraph", "a bare & < > in the body, as @hygraph/utils escapes them", "accepted", {"gcms-signature": hygraph_sign(bare, "master", T)}, bare, HY,
    secrets=[HSECRET], expected_event_type="update")
add("hygraph", "body changed after signing", "signature_mismatch", {"gcms-signature": hdr}, hbody.replace("publish", "unpublish"), HY, secrets=[HSECRET])
add("hygraph", "env changed in the header", "signature_mismatch", {"gcms-signature": hdr.replace("env=master", "env=prod")}, hbody, HY, secrets=[HSECRET])
add("hygraph", "wrong secret", "signature_mismatch", {"gcms-signature": hdr}, hbody, HY, secrets=["some-other-secret"])
add("hygraph", "re-serialised body (pretty-printed by a proxy)", "signature_mismatch", {"gcms-signature": hdr},
    json.dumps(json.loads(hbody), indent=2), HY + "; the raw-bytes caveat", secrets=[HSECRET])
add("hygraph", "gcms-signature missing", "missing_signature", {}, hbody, HY, secrets=[HSECRET])

with open(OUT, "w") as f:
    json.dump(fixtures, f, indent=1, ensure_ascii=False)
    f.write("\n")
print(f"{len(fixtures)} cases -> {os.path.normpath(OUT)}")
