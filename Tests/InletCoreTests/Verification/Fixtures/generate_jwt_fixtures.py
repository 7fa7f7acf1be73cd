#!/usr/bin/env python3
"""Known-answer fixtures for the JWT and configured-public-key profiles: jwt_fixtures.json.

Each case is made with PyJWT / cryptography and, where the provider ships one, checked with the provider's own SDK
at generation time; the SDK's decision is recorded in `sdk` ("accepted" or the exception it raised), so a reader sees
where Inlet is stricter than the SDK (Vonage's SDK does not check payload_hash; Inlet does when it is present).

    python3 -m venv /tmp/venv-jwt
    /tmp/venv-jwt/bin/pip install PyJWT==2.15.1 cryptography==50.0.2 qstash==3.4.0 messagebird==2.2.0 vonage-jwt==1.1.5
    /tmp/venv-jwt/bin/python Tests/InletCoreTests/Verification/Fixtures/generate_jwt_fixtures.py

Keys are made fresh on each run; only their public halves (and HMAC secrets) land in the JSON.
"""
import base64
import hashlib
import json
import os
import time

import jwt
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

NOW = int(time.time())
# Shipped with the profiles (providers/fixtures/), where `inlet providers test NAME` reads them.
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "..", "providers", "fixtures", "jwt_fixtures.json")
fixtures = []


def b64u(b: bytes) -> str:
    return base64.urlsafe_b64encode(b).decode().rstrip("=")


def pem_public(key) -> str:
    return key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()


def sdk_decision(fn):
    try:
        r = fn()
        if r is False:
            return "refused: False"
        return "accepted"
    except Exception as e:  # the SDK's own refusal, recorded as it named it
        return f"refused: {type(e).__name__}: {e}"[:160]


def add(provider, case, expected, headers, body, sdk, package, **extra):
    f = {"provider": provider, "case": case, "expected": expected, "headers": headers, "body": body, "now": NOW,
         "sdk": f"{package}: {sdk}"}
    f.update({k: v for k, v in extra.items() if v is not None})
    fixtures.append(f)


def unsigned(header: dict, claims: dict) -> str:
    return b64u(json.dumps(header).encode()) + "." + b64u(json.dumps(claims).encode()) + "."


# --- Upstash QStash (qstash 3.4.0 Receiver) -------------------------------------------------------------------
from qstash import Receiver  # noqa: E402

current, nxt = "sig_current_7QpVv1", "sig_next_Lm2xk9"
url = "https://hooks.example.com/hooks/qstash"
qbody = '{"hello":"world"}'


def qstash_token(key, body=qbody, sub=url, iss="Upstash", exp=NOW + 300, nbf=NOW - 1, drop=None, alg="HS256"):
    claims = {"iss": iss, "sub": sub, "exp": exp, "nbf": nbf, "iat": NOW - 1, "jti": "jwt_1", "body": b64u(hashlib.sha256(body.encode()).digest())}
    if drop:
        claims.pop(drop)
    return jwt.encode(claims, key, algorithm=alg)


def qstash_case(case, expected, token, body=qbody):
    sdk = sdk_decision(lambda: Receiver(current, nxt).verify(signature=token, body=body, url=url))
    add("qstash", case, expected, {"Upstash-Signature": token, "Upstash-Message-Id": "msg_" + case}, body, sdk, "qstash 3.4.0",
        secrets=[current, nxt], public_url=url, expected_event_id="msg_" + case if expected == "accepted" else None)


qstash_case("current-key", "accepted", qstash_token(current))
qstash_case("next-key", "accepted", qstash_token(nxt))
qstash_case("wrong-key", "signature_mismatch", qstash_token("someone-else"))
qstash_case("expired", "timestamp_outside_tolerance", qstash_token(current, exp=NOW - 5, nbf=NOW - 400))
qstash_case("not-yet-valid", "timestamp_outside_tolerance", qstash_token(current, nbf=NOW + 60))
qstash_case("body-tampered", "body_hash_mismatch", qstash_token(current), body='{"hello":"mallory"}')
qstash_case("other-url", "jwt_claim_invalid", qstash_token(current, sub="https://elsewhere.example/x"))
qstash_case("other-issuer", "jwt_claim_invalid", qstash_token(current, iss="NotUpstash"))
qstash_case("no-nbf", "jwt_claim_invalid", qstash_token(current, drop="nbf"))
qstash_case("hs512-not-accepted", "jwt_algorithm_refused", qstash_token(current, alg="HS512"))
qstash_case("alg-none", "jwt_algorithm_refused", unsigned({"alg": "none", "typ": "JWT"},
            {"iss": "Upstash", "sub": url, "exp": NOW + 300, "nbf": NOW - 1, "body": b64u(hashlib.sha256(qbody.encode()).digest())}))

# --- MessageBird (messagebird 2.2.0 RequestValidator) ----------------------------------------------------------
from messagebird.request_validator import RequestValidator  # noqa: E402

mb_key = "PlLrKaqvZNRR5zAjm42ZT6q1SQxgbbGd"
mb_url = "https://hooks.example.com/hooks/messagebird"
mb_body = '{"id":"mb-1","type":"message.created"}'


def mb_token(alg="HS256", body=mb_body, full_url=mb_url + "?x=1", iss="MessageBird", nbf=NOW - 1, exp=NOW + 60, key=mb_key):
    claims = {"iss": iss, "nbf": nbf, "exp": exp, "jti": "j-1", "url_hash": hashlib.sha256(full_url.encode()).hexdigest()}
    if body:
        claims["payload_hash"] = hashlib.sha256(body.encode()).hexdigest()
    return jwt.encode(claims, key, algorithm=alg)


def mb_case(case, expected, token, body=mb_body, query="x=1"):
    sdk = sdk_decision(lambda: RequestValidator(mb_key).validate_signature(token, mb_url + "?" + query, body.encode()))
    add("messagebird", case, expected, {"MessageBird-Signature-JWT": token}, body, sdk, "messagebird 2.2.0",
        secrets=[mb_key], public_url=mb_url, query=query)


mb_case("hs256", "accepted", mb_token())
mb_case("hs384", "accepted", mb_token(alg="HS384"))
mb_case("hs512", "accepted", mb_token(alg="HS512"))
mb_case("empty-body-no-hash", "accepted", mb_token(body=""), body="")
mb_case("nbf-within-1s-leeway", "accepted", mb_token(nbf=NOW + 1))
mb_case("payload-tampered", "body_hash_mismatch", mb_token(), body='{"id":"mb-1","type":"message.deleted"}')
mb_case("url-tampered", "jwt_claim_invalid", mb_token(), query="x=2")
mb_case("expired", "timestamp_outside_tolerance", mb_token(exp=NOW - 10, nbf=NOW - 100))
mb_case("other-issuer", "jwt_claim_invalid", mb_token(iss="Bird"))
mb_case("wrong-key", "signature_mismatch", mb_token(key="not-the-signing-key"))

# --- Vonage (vonage-jwt 1.1.5 verify_signature) -----------------------------------------------------------------
from vonage_jwt.verify_jwt import verify_signature  # noqa: E402

vn_secret = "vonage-signature-secret-0123456789"
vn_body = '{"message_uuid":"aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee","status":"delivered"}'


def vn_token(key=vn_secret, payload_hash=True, body=vn_body, exp=NOW + 300, alg="HS256"):
    claims = {"iat": NOW - 1, "jti": "v-1", "exp": exp, "api_key": "abcd1234", "application_id": "app-1"}
    if payload_hash:
        claims["payload_hash"] = hashlib.sha256(body.encode()).hexdigest()
    return jwt.encode(claims, key, algorithm=alg)


def vn_case(case, expected, token, body=vn_body, bearer="Bearer "):
    sdk = sdk_decision(lambda: verify_signature(token, vn_secret))
    add("vonage", case, expected, {"Authorization": bearer + token}, body, sdk, "vonage-jwt 1.1.5", secrets=[vn_secret],
        expected_event_id="aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee" if expected == "accepted" else None,
        expected_event_type="delivered" if expected == "accepted" else None)


vn_case("with-payload-hash", "accepted", vn_token())
vn_case("without-payload-hash", "accepted", vn_token(payload_hash=False))
vn_case("lowercase-bearer", "accepted", vn_token(), bearer="bearer ")
vn_case("wrong-secret", "signature_mismatch", vn_token(key="another-secret-entirely-0000"))
vn_case("expired", "timestamp_outside_tolerance", vn_token(exp=NOW - 30))
# The SDK checks no body hash; Inlet checks it whenever the token carries one.
vn_case("payload-hash-mismatch", "body_hash_mismatch", vn_token(), body=vn_body.replace("delivered", "rejected"))
vn_case("alg-none", "jwt_algorithm_refused", unsigned({"alg": "none"}, {"iat": NOW, "exp": NOW + 300}))

# --- Google Cloud Pub/Sub push (PyJWT 2.15.1 with a JWKS, as google-auth verifies) ---------------------------
g_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
g_other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
g_kid = "7d680d8c70d44e947133cbd499ebc1a61c3d5abc"
g_jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(g_key.public_key()))
g_jwk.update({"kid": g_kid, "alg": "RS256", "use": "sig"})
jwks = json.dumps({"keys": [g_jwk, {"kty": "oct", "kid": "ignored", "k": "AAAA"}]})
aud = "https://hooks.example.com/hooks/pubsub"
email = "pubsub-push@my-project.iam.gserviceaccount.com"
g_body = '{"message":{"attributes":{"k":"v"},"data":"SGVsbG8=","messageId":"2070443601311540","publishTime":"2026-01-01T00:00:00Z"},"subscription":"projects/p/subscriptions/s"}'


def g_token(key=g_key, kid=g_kid, aud_=aud, email_=email, verified=True, iss="https://accounts.google.com", exp=NOW + 3600, iat=NOW - 5, alg="RS256"):
    claims = {"aud": aud_, "azp": "1137", "email": email_, "email_verified": verified, "exp": exp, "iat": iat, "iss": iss, "sub": "1137"}
    return jwt.encode(claims, key, algorithm=alg, headers={"kid": kid})


def g_sdk(token):
    def check():
        claims = jwt.decode(token, jwt.PyJWK(g_jwk).key, algorithms=["RS256"], audience=aud, options={"require": ["iat", "exp"]})
        assert claims["iss"] in ["accounts.google.com", "https://accounts.google.com"], "issuer"
        assert claims["email"] == email and claims["email_verified"] is True, "email"
    return sdk_decision(check)


def g_case(case, expected, token):
    add("google-pubsub", case, expected, {"Authorization": "Bearer " + token}, g_body, g_sdk(token), "PyJWT 2.15.1 (google-auth's checks)",
        jwks=jwks, jwt_audience=[aud], jwt_claims={"email": [email]},
        expected_event_id="2070443601311540" if expected == "accepted" else None)


g_case("valid", "accepted", g_token())
g_case("short-issuer", "accepted", g_token(iss="accounts.google.com"))
g_case("other-audience", "jwt_claim_invalid", g_token(aud_="https://attacker.example/push"))
g_case("other-service-account", "jwt_claim_invalid", g_token(email_="attacker@evil-project.iam.gserviceaccount.com"))
g_case("email-not-verified", "jwt_claim_invalid", g_token(verified=False))
g_case("other-issuer", "jwt_claim_invalid", g_token(iss="https://evil.example"))
g_case("expired", "timestamp_outside_tolerance", g_token(exp=NOW - 1, iat=NOW - 3600))
g_case("issued-in-future", "timestamp_outside_tolerance", g_token(iat=NOW + 120))
g_case("wrong-key-same-kid", "signature_mismatch", g_token(key=g_other))
g_case("unknown-kid", "signing_key_unknown", g_token(key=g_other, kid="not-in-the-set"))
g_pem = pem_public(g_key).encode()
# HS/RS confusion: HS256 signed with the public key's PEM as the HMAC secret. PyJWT refuses to use a PEM as an HMAC key,
# so the token is built by hand.
hs_input = b64u(json.dumps({"alg": "HS256", "kid": g_kid}).encode()) + "." + b64u(json.dumps(
    {"aud": aud, "email": email, "email_verified": True, "exp": NOW + 3600, "iat": NOW, "iss": "https://accounts.google.com"}).encode())
import hmac  # noqa: E402
hs_token = hs_input + "." + b64u(hmac.new(g_pem, hs_input.encode(), hashlib.sha256).digest())
g_case("hs256-with-public-key-as-secret", "jwt_algorithm_refused", hs_token)
g_case("alg-none", "jwt_algorithm_refused", unsigned({"alg": "none", "kid": g_kid},
       {"aud": aud, "email": email, "email_verified": True, "exp": NOW + 3600, "iat": NOW, "iss": "https://accounts.google.com"}))

# --- FusionAuth (PyJWT 2.15.1; HMAC, RSA and EC keys) ----------------------------------------------------------
fa_secret = "fusionauth-hmac-key-2026"
fa_rsa = rsa.generate_private_key(public_exponent=65537, key_size=2048)
fa_ec = ec.generate_private_key(ec.SECP256R1())
fa_body = '{"event":{"id":"e6a4b4c2-0000-4000-8000-000000000001","type":"user.create","createInstant":1767225600000}}'


def fa_token(key, alg, body=fa_body):
    return jwt.encode({"request_body_sha256": base64.b64encode(hashlib.sha256(body.encode()).digest()).decode()}, key, algorithm=alg)


def fa_case(case, expected, token, secret, body=fa_body, verify_key=None, algs=None):
    sdk = sdk_decision(lambda: jwt.decode(token, verify_key or secret, algorithms=algs or ["HS256"]))
    add("fusionauth", case, expected, {"X-FusionAuth-Signature-JWT": token}, body, sdk, "PyJWT 2.15.1", secrets=[secret],
        expected_event_id="e6a4b4c2-0000-4000-8000-000000000001" if expected == "accepted" else None,
        expected_event_type="user.create" if expected == "accepted" else None)


fa_rsa_pem, fa_ec_pem = pem_public(fa_rsa), pem_public(fa_ec)
fa_case("hs256", "accepted", fa_token(fa_secret, "HS256"), fa_secret)
fa_case("hs512", "accepted", fa_token(fa_secret, "HS512"), fa_secret, algs=["HS512"])
fa_case("rs256-pem", "accepted", fa_token(fa_rsa, "RS256"), fa_rsa_pem, verify_key=fa_rsa.public_key(), algs=["RS256"])
fa_case("es256-pem", "accepted", fa_token(fa_ec, "ES256"), fa_ec_pem, verify_key=fa_ec.public_key(), algs=["ES256"])
fa_case("body-tampered", "body_hash_mismatch", fa_token(fa_secret, "HS256"), fa_secret, body=fa_body.replace("create", "delete"))
fa_case("rs256-wrong-key", "signature_mismatch", fa_token(rsa.generate_private_key(public_exponent=65537, key_size=2048), "RS256"), fa_rsa_pem,
        verify_key=fa_rsa.public_key(), algs=["RS256"])
# HS/RS confusion against a source configured with the RSA public key: the PEM is never an HMAC secret.
fa_in = b64u(b'{"alg":"HS256","typ":"JWT"}') + "." + b64u(json.dumps(
    {"request_body_sha256": base64.b64encode(hashlib.sha256(fa_body.encode()).digest()).decode()}).encode())
fa_conf = fa_in + "." + b64u(hmac.new(fa_rsa_pem.encode(), fa_in.encode(), hashlib.sha256).digest())
fa_case("hs256-signed-with-the-rsa-pem", "signature_mismatch", fa_conf, fa_rsa_pem, verify_key=fa_rsa.public_key(), algs=["RS256"])

# A FusionAuth tenant's JWKS (jwks_url on the source): an EC P-256 key and an RSA key, chosen by kid.
fa_jwks_url = "https://auth.example.com/.well-known/jwks.json"
ec_jwk = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(fa_ec.public_key()))
ec_jwk.update({"kid": "ec-1", "use": "sig"})
rsa_jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(fa_rsa.public_key()))
rsa_jwk.update({"kid": "rsa-1", "alg": "RS256"})
fa_jwks = json.dumps({"keys": [rsa_jwk, ec_jwk]})
for case, expected, key, alg, kid in [("es256-jwks", "accepted", fa_ec, "ES256", "ec-1"), ("rs256-jwks", "accepted", fa_rsa, "RS256", "rsa-1"),
                                      ("es256-token-naming-the-rsa-kid", "signing_key_unknown", fa_ec, "ES256", "rsa-1")]:
    token = jwt.encode({"request_body_sha256": base64.b64encode(hashlib.sha256(fa_body.encode()).digest()).decode()}, key, algorithm=alg,
                       headers={"kid": kid})
    sdk = sdk_decision(lambda: jwt.decode(token, jwt.PyJWKSet.from_json(fa_jwks)[kid].key, algorithms=[alg]))
    add("fusionauth", case, expected, {"X-FusionAuth-Signature-JWT": token}, fa_body, sdk, "PyJWT 2.15.1", jwks=fa_jwks, jwks_url=fa_jwks_url,
        expected_event_id="e6a4b4c2-0000-4000-8000-000000000001" if expected == "accepted" else None)

# --- Wise and Fireblocks (configured RSA public key; cryptography 50.0.2) ------------------------------------
for provider, header, hash_, other in [("wise", "X-Signature-SHA256", hashes.SHA256(), hashes.SHA512()),
                                       ("fireblocks", "Fireblocks-Signature", hashes.SHA512(), hashes.SHA256())]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    body = '{"id":"evt-%s-1","event_type":"transfers#state-change","type":"TRANSACTION_STATUS_UPDATED","data":{"state":"outgoing_payment_sent"}}' % provider
    pem = pem_public(key)

    def sign(b, h=hash_, k=key):
        return base64.b64encode(k.sign(b.encode(), padding.PKCS1v15(), h)).decode()

    def check(sig, b):
        return lambda: key.public_key().verify(base64.b64decode(sig), b.encode(), padding.PKCS1v15(), hash_)

    cases = [("valid", "accepted", sign(body), body),
             ("body-tampered", "signature_mismatch", sign(body), body.replace("sent", "failed")),
             ("other-hash", "signature_mismatch", sign(body, h=other), body),
             ("wrong-key", "signature_mismatch", sign(body, k=rsa.generate_private_key(public_exponent=65537, key_size=2048)), body)]
    for case, expected, sig, b in cases:
        add(provider, case, expected, {header: sig, "X-Delivery-Id": "d-1"}, b, sdk_decision(check(sig, b)), "cryptography 50.0.2",
            secrets=[pem])

with open(OUT, "w") as f:
    json.dump(fixtures, f, indent=1)
    f.write("\n")
print(f"{len(fixtures)} fixtures -> {OUT}")
for fx in fixtures:
    ok = fx["sdk"].split(": ", 1)[1].startswith("accepted")
    if ok != (fx["expected"] == "accepted"):
        print("  differs from the SDK:", fx["provider"], fx["case"], "|", fx["sdk"])
