#!/usr/bin/env python3
"""Known-answer fixtures for the key-by-id profiles (Circle, eBay, Plaid): providers/fixtures/key_by_id_fixtures.json.

Each case carries `key_server`: what the provider's key API answers, by key id (an id it lacks answers 404). Tests,
`inlet providers test` and the end-to-end test serve the key from it; nothing is fetched from the network.

- eBay: the SDK's own vector (eBay/event-notification-nodejs-sdk@feaf337 test/test.json, case VALID: a notification
  eBay signed, its key id and the key API's answer) is copied as it is; the other cases are signed here with a P-256
  key made on each run, and every eBay case is also judged by the SDK's steps under Node (`node` on PATH): the header
  decoded and parsed as lib/validator.js does, the one-line PEM unfolded by its formatKey,
  crypto.createVerify('ssl3-sha1') over JSON.stringify(message); the challenge answer as generateChallengeResponse
  computes it. The decision is recorded in `sdk`.
- Circle: signed here as developers.circle.com/api-reference/verify-webhook-signatures describes (ECDSA_SHA_256, base64
  DER signature over the body; the key API answers {"data":{"publicKey": base64 DER SPKI}}).
- Plaid: PyJWT ES256 tokens with the claims plaid.com/docs/api/webhooks/webhook-verification/ names (iat,
  request_body_sha256 = hex SHA-256 of the body); the key API answers {"key": JWK, "request_id": …}.

    python3 -m venv /tmp/venv-jwt
    /tmp/venv-jwt/bin/pip install PyJWT==2.15.1 cryptography==50.0.2
    git clone https://github.com/eBay/event-notification-nodejs-sdk /tmp/ebay-sdk  # for test/test.json (feaf337)
    EBAY_SDK=/tmp/ebay-sdk /tmp/venv-jwt/bin/python Tests/InletCoreTests/Verification/Fixtures/generate_key_by_id_fixtures.py

Keys are made fresh on each run; only their public halves land in the JSON.
"""
import base64
import hashlib
import hmac
import json
import os
import subprocess
import time
import uuid

import jwt
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

NOW = int(time.time())
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "..", "providers", "fixtures", "key_by_id_fixtures.json")
EBAY_SDK = os.environ.get("EBAY_SDK", "/tmp/ebay-sdk")
fixtures = []


def b64(b: bytes) -> str:
    return base64.b64encode(b).decode()


def b64u(b: bytes) -> str:
    return base64.urlsafe_b64encode(b).decode().rstrip("=")


def spki(key) -> bytes:
    return key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def add(provider, case, expected, headers, body, key_server, sdk, now=NOW, **extra):
    f = {"provider": provider, "case": case, "expected": expected, "headers": headers, "body": body, "now": now,
         "key_server": key_server, "sdk": sdk}
    f.update(extra)
    fixtures.append(f)


# --- eBay -------------------------------------------------------------------------------------------------------------

NODE_EBAY = r"""
const crypto = require('crypto');
const c = JSON.parse(require('fs').readFileSync(0, 'utf8'));
function decision() {
  try {
    const details = JSON.parse(Buffer.from(c.signature, 'base64').toString('ascii'));
    const answer = c.key_server[details.kid];
    if (!answer) return 'refused: key API 404';
    const key = JSON.parse(answer).key
      .replace(/-----BEGIN PUBLIC KEY-----/, '-----BEGIN PUBLIC KEY-----\n')
      .replace(/-----END PUBLIC KEY-----/, '\n-----END PUBLIC KEY-----');
    const verifier = crypto.createVerify('ssl3-sha1');
    verifier.update(JSON.stringify(JSON.parse(c.body)));
    return verifier.verify(key, details.signature, 'base64') ? 'accepted' : 'refused: 412 signature mismatch';
  } catch (e) { return 'refused: ' + e.message; }
}
const out = { decision: decision() };
if (c.challenge) {
  const h = crypto.createHash('sha256'); h.update(c.challenge); h.update(c.token); h.update(c.endpoint);
  out.challengeResponse = Buffer.from(h.digest('hex')).toString();
}
console.log(JSON.stringify(out));
"""


def node_ebay(signature, body, key_server, challenge=None, token=None, endpoint=None):
    payload = {"signature": signature, "body": body, "key_server": key_server, "challenge": challenge, "token": token, "endpoint": endpoint}
    out = subprocess.run(["node", "-e", NODE_EBAY], input=json.dumps(payload), capture_output=True, text=True, check=True).stdout
    return json.loads(out)


def ebay_header(kid, signature_b64):
    return b64(json.dumps({"alg": "ecdsa", "kid": kid, "signature": signature_b64, "digest": "SHA1"}, separators=(",", ":")).encode())


def ebay_key_answer(key):
    # One line, as eBay serves it (the SDK's formatKey puts the line breaks back).
    return json.dumps({"key": "-----BEGIN PUBLIC KEY-----" + b64(spki(key)) + "-----END PUBLIC KEY-----", "algorithm": "ECDSA", "digest": "SHA1"})


sdk_vectors = json.loads(subprocess.check_output(["git", "-C", EBAY_SDK, "show", "feaf337:test/test.json"]))
valid = sdk_vectors["VALID"]
sdk_body = json.dumps(valid["message"], separators=(",", ":"), ensure_ascii=False)  # JSON.stringify(message)
sdk_kid = valid["public_key"]
sdk_server = {sdk_kid: json.dumps(valid["response"])}
SDK_TAG = "eBay/event-notification-nodejs-sdk@feaf337 steps under node"
r = node_ebay(valid["signature"], sdk_body, sdk_server)
add("ebay", "sdk_vector", "accepted", {"x-ebay-signature": valid["signature"], "Content-Type": "application/json"}, sdk_body, sdk_server,
    f"{SDK_TAG}: {r['decision']} (eBay's own signed vector, test/test.json VALID)",
    expected_event_id=valid["message"]["notification"]["notificationId"], expected_event_type=valid["message"]["metadata"]["topic"])
tampered = sdk_body.replace("test_user", "test_usex")
r = node_ebay(valid["signature"], tampered, sdk_server)
add("ebay", "sdk_vector_tampered_body", "signature_mismatch", {"x-ebay-signature": valid["signature"]}, tampered, sdk_server, f"{SDK_TAG}: {r['decision']}")

ebay_key, other_key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
kid = str(uuid.uuid4())
message = {"metadata": {"topic": "MARKETPLACE_ACCOUNT_DELETION", "schemaVersion": "1.0", "deprecated": False},
           "notification": {"notificationId": str(uuid.uuid4()), "eventDate": "2026-12-01T10:00:00.000Z", "publishDate": "2026-12-01T10:00:00.100Z",
                            "publishAttemptCount": 1, "data": {"username": "inlet_user", "userId": "u1", "eiasToken": "nY+sHZ2PrBmdj6wVnY+sEZ2PrA2dj6wJ"}}}
body = json.dumps(message, separators=(",", ":"))
sig = b64(ebay_key.sign(body.encode(), ec.ECDSA(hashes.SHA1())))
server = {kid: ebay_key_answer(ebay_key)}
header = ebay_header(kid, sig)
r = node_ebay(header, body, server)
add("ebay", "valid", "accepted", {"x-ebay-signature": header}, body, server, f"{SDK_TAG}: {r['decision']}",
    expected_event_id=message["notification"]["notificationId"], expected_event_type="MARKETPLACE_ACCOUNT_DELETION")
wrong = {kid: ebay_key_answer(other_key)}
r = node_ebay(header, body, wrong)
add("ebay", "wrong_secret", "signature_mismatch", {"x-ebay-signature": header}, body, wrong, f"{SDK_TAG}: {r['decision']} (the key API serves another key)")
unknown = ebay_header(str(uuid.uuid4()), sig)
r = node_ebay(unknown, body, server)
add("ebay", "unknown_kid", "signing_key_unknown", {"x-ebay-signature": unknown}, body, server, f"{SDK_TAG}: {r['decision']}")
sha256_sig = b64(ebay_key.sign(body.encode(), ec.ECDSA(hashes.SHA256())))
h256 = ebay_header(kid, sha256_sig)
r = node_ebay(h256, body, server)
add("ebay", "sha256_not_sha1", "signature_mismatch", {"x-ebay-signature": h256}, body, server, f"{SDK_TAG}: {r['decision']}")
add("ebay", "missing_signature", "missing_signature", {}, body, server, "scheme: no x-ebay-signature header")
add("ebay", "malformed_header", "malformed_signature", {"x-ebay-signature": b64(b"not json")}, body, server, "SDK: Parsing failed for signature header")
injected = ebay_header("../../identity/v1/oauth2/token", sig)
add("ebay", "kid_path_injection", "signing_key_unknown", {"x-ebay-signature": injected}, body, server, "Inlet: a key id that is not plain text is never fetched")
challenge, token, endpoint = "a8628072-3d33-45ee-9004-bee86830a22d", "inlet-verification-token_0123456789abcdef", "https://hooks.example.com/hooks/ebay"
r = node_ebay(header, body, server, challenge, token, endpoint)
answer = hashlib.sha256((challenge + token + endpoint).encode()).hexdigest()
assert r["challengeResponse"] == answer
add("ebay", "challenge_code", "handshake", {}, "", {}, f"{SDK_TAG}: generateChallengeResponse = {r['challengeResponse']}", method="GET",
    query=f"challenge_code={challenge}", verify_token=token, public_url=endpoint,
    expected_response={"status": 200, "content_type": "application/json", "body": json.dumps({"challengeResponse": answer}, separators=(",", ":"))})

# --- Circle -----------------------------------------------------------------------------------------------------------

circle_key, circle_other = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
ckid = str(uuid.uuid4())
cbody = json.dumps({"subscriptionId": str(uuid.uuid4()), "notificationId": str(uuid.uuid4()), "notificationType": "transactions.outbound",
                    "notification": {"id": str(uuid.uuid4()), "state": "COMPLETE", "blockchain": "ETH-SEPOLIA"},
                    "timestamp": "2026-12-01T10:00:00.000Z", "version": 2}, separators=(",", ":"))
csig = b64(circle_key.sign(cbody.encode(), ec.ECDSA(hashes.SHA256())))


def circle_answer(key, kid):
    return json.dumps({"data": {"id": kid, "algorithm": "ECDSA_SHA_256", "publicKey": b64(spki(key)), "createDate": "2026-01-01T00:00:00Z"}})


cserver = {ckid: circle_answer(circle_key, ckid)}
CIRCLE = "developers.circle.com verify-webhook-signatures (signed here with cryptography ECDSA P-256/SHA-256)"
ch = {"X-Circle-Signature": csig, "X-Circle-Key-Id": ckid, "Content-Type": "application/json"}
add("circle", "valid", "accepted", ch, cbody, cserver, CIRCLE, expected_event_id=json.loads(cbody)["notificationId"], expected_event_type="transactions.outbound")
add("circle", "tampered_body", "signature_mismatch", ch, cbody.replace("COMPLETE", "FAILED"), cserver, CIRCLE)
add("circle", "wrong_secret", "signature_mismatch", ch, cbody, {ckid: circle_answer(circle_other, ckid)}, CIRCLE + " (the key API serves another key)")
add("circle", "unknown_kid", "signing_key_unknown", dict(ch, **{"X-Circle-Key-Id": str(uuid.uuid4())}), cbody, cserver, CIRCLE)
add("circle", "missing_signature", "missing_signature", {"X-Circle-Key-Id": ckid}, cbody, cserver, CIRCLE)
add("circle", "missing_key_id", "malformed_signature", {"X-Circle-Signature": csig}, cbody, cserver, CIRCLE)
add("circle", "kid_path_injection", "signing_key_unknown", dict(ch, **{"X-Circle-Key-Id": "%2e%2e/v1/businessAccount/balances"}), cbody, cserver,
    "Inlet: a key id that is not plain text is never fetched")

# --- Plaid ------------------------------------------------------------------------------------------------------------

plaid_key, plaid_other = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
pkid = str(uuid.uuid4())


def plaid_answer(key, kid):
    n = key.public_key().public_numbers()
    jwk = {"alg": "ES256", "created_at": 1700000000, "crv": "P-256", "expired_at": None, "kid": kid, "kty": "EC", "use": "sig",
           "x": b64u(n.x.to_bytes(32, "big")), "y": b64u(n.y.to_bytes(32, "big"))}
    return json.dumps({"key": jwk, "request_id": "Ay2bkK2WcLQxGb8"})


pserver = {pkid: plaid_answer(plaid_key, pkid)}
pbody = json.dumps({"webhook_type": "TRANSACTIONS", "webhook_code": "SYNC_UPDATES_AVAILABLE", "item_id": "wz666MBjYWTp2PDzzggYhM6oWWmBb",
                    "initial_update_complete": True, "historical_update_complete": False, "environment": "production"}, indent=2)
PLAID = "plaid.com/docs/api/webhooks/webhook-verification (PyJWT 2.15.1 ES256)"


def plaid_token(key=plaid_key, kid=pkid, iat=NOW - 10, body=pbody, alg="ES256"):
    claims = {"iat": iat, "request_body_sha256": hashlib.sha256(body.encode()).hexdigest()}
    return jwt.encode(claims, key, algorithm=alg, headers={"kid": kid})


ph = lambda t: {"Plaid-Verification": t, "Content-Type": "application/json"}
add("plaid", "valid", "accepted", ph(plaid_token()), pbody, pserver, PLAID, expected_event_type="TRANSACTIONS")
add("plaid", "body_hash_mismatch", "body_hash_mismatch", ph(plaid_token()), pbody.replace("TRANSACTIONS", "AUTH"), pserver, PLAID)
add("plaid", "wrong_secret", "signature_mismatch", ph(plaid_token(key=plaid_other)), pbody, pserver, PLAID + " (signed with another key)")
add("plaid", "unknown_kid", "signing_key_unknown", ph(plaid_token(kid=str(uuid.uuid4()))), pbody, pserver, PLAID)
add("plaid", "expired_timestamp", "timestamp_outside_tolerance", ph(plaid_token(iat=NOW - 301 - 5)), pbody, pserver, PLAID + " (iat over 5 minutes old)")
none_token = b64u(json.dumps({"alg": "none", "kid": pkid, "typ": "JWT"}).encode()) + "." + b64u(json.dumps({"iat": NOW, "request_body_sha256": hashlib.sha256(pbody.encode()).hexdigest()}).encode()) + "."
add("plaid", "alg_none", "jwt_algorithm_refused", ph(none_token), pbody, pserver, "RFC 8725: alg none refused")
# HS/ES confusion: an HMAC made with the public key's JWK text as the secret, as a confused verifier would check it.
# Made by hand: PyJWT itself refuses a JWK as an HMAC secret.
hs_input = b64u(json.dumps({"alg": "HS256", "kid": pkid, "typ": "JWT"}).encode()) + "." + b64u(json.dumps({"iat": NOW - 10, "request_body_sha256": hashlib.sha256(pbody.encode()).hexdigest()}).encode())
hs = hs_input + "." + b64u(hmac.new(pserver[pkid].encode(), hs_input.encode(), hashlib.sha256).digest())
add("plaid", "hs256_with_public_key", "jwt_algorithm_refused", ph(hs), pbody, pserver, "RFC 8725: the docs accept ES256 only")
add("plaid", "missing_signature", "missing_signature", {"Content-Type": "application/json"}, pbody, pserver, PLAID)
add("plaid", "kid_injection", "signing_key_unknown", ph(plaid_token(kid="a" * 200)), pbody, pserver, "Inlet: a key id that is not plain text or too long is never fetched")

with open(OUT, "w") as f:
    json.dump(fixtures, f, indent=1, ensure_ascii=False)
    f.write("\n")
print(f"{len(fixtures)} cases -> {os.path.normpath(OUT)}")
