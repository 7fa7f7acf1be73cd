#!/usr/bin/env python3
"""Known-answer fixtures for the profiles whose handshakes were built first (issue 15): Asana (hex HMAC-SHA256 of
the body, keyed with the handshake's X-Hook-Secret), Microsoft Graph change notifications (the clientState token in
the body) and Azure Event Grid (a query-string secret). Written to providers/fixtures/handshake_profile_fixtures.json
in the schema of catalog_fixtures.json. Every signature is computed here from the scheme as the provider documents it;
no SDK on PyPI verifies these. Deterministic.

Run:  python3 generate_handshake_profile_fixtures.py   (--check: compare only)
"""
import hashlib, hmac, json, os, sys

NOW = 1767225600  # 2026-01-01T00:00:00Z
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "..", "providers", "fixtures",
                   "handshake_profile_fixtures.json")
DOC = "python hmac (documented scheme)"


def case(provider, name, secrets, headers, body, expected, event_id=None, event_type=None, query=None):
    c = {"provider": provider, "sdk": DOC, "case": name, "secrets": secrets, "headers": headers, "body": body,
         "now": NOW, "sdk_accepts": None, "expected": expected, "expected_event_id": event_id,
         "expected_event_type": event_type}
    if query is not None:
        c["query"] = query
    return c


def body_sha256(body):
    return hashlib.sha256(body.encode()).hexdigest()


fixtures = []

# Asana
secret = "asana-hook-secret-6f1c"
body = json.dumps({"events": [{"action": "changed", "resource": {"gid": "1201", "resource_type": "task"},
                               "created_at": "2026-01-01T00:00:00.000Z"}]}, separators=(",", ":"))
sig = hmac.new(secret.encode(), body.encode(), hashlib.sha256).hexdigest()
fixtures += [
    case("asana", "valid", [secret], {"X-Hook-Signature": sig, "Content-Type": "application/json"}, body, "accepted",
         body_sha256(body), "changed"),
    case("asana", "wrong_secret", ["another-secret"], {"X-Hook-Signature": sig}, body, "signature_mismatch"),
    case("asana", "tampered_body", [secret], {"X-Hook-Signature": sig}, body.replace("changed", "deleted"), "signature_mismatch"),
    case("asana", "missing_signature", [secret], {"Content-Type": "application/json"}, body, "missing_signature"),
]

# Microsoft Graph
state = "graph-client-state-91d2"
def graph(client_state):
    return json.dumps({"value": [{"subscriptionId": "7f105c7d-2dc5-4530-97cd-4e7ae6534c07", "clientState": client_state,
                                  "changeType": "created", "resource": "Users/u1/Messages/m1",
                                  "subscriptionExpirationDateTime": "2026-01-03T00:00:00Z", "tenantId": "t1"}]},
                      separators=(",", ":"))
fixtures += [
    case("microsoft-graph", "valid", [state], {"Content-Type": "application/json"}, graph(state), "accepted",
         body_sha256(graph(state)), "created"),
    case("microsoft-graph", "wrong_token", [state], {"Content-Type": "application/json"}, graph("guessed"), "signature_mismatch"),
    case("microsoft-graph", "wrong_secret", ["another-client-state"], {"Content-Type": "application/json"}, graph(state), "signature_mismatch"),
    case("microsoft-graph", "missing_signature", [state], {"Content-Type": "application/json"},
         json.dumps({"value": [{"changeType": "created"}]}, separators=(",", ":")), "missing_signature"),
]

# Azure Event Grid (Event Grid schema)
code = "eg-endpoint-secret-0b7e"
eg = json.dumps([{"id": "2d1781af-3a4c-4d7c-bd0c-e34b19da4e66", "topic": "/subscriptions/s/resourceGroups/g",
                  "subject": "/blobServices/default/containers/c/blobs/b", "eventType": "Microsoft.Storage.BlobCreated",
                  "eventTime": "2026-01-01T00:00:00Z", "data": {"api": "PutBlob"}, "dataVersion": "", "metadataVersion": "1"}],
                separators=(",", ":"))
fixtures += [
    case("azure-event-grid", "valid", [code], {"aeg-event-type": "Notification", "Content-Type": "application/json"}, eg,
         "accepted", "2d1781af-3a4c-4d7c-bd0c-e34b19da4e66", "Microsoft.Storage.BlobCreated", query="code=" + code),
    case("azure-event-grid", "wrong_token", [code], {"aeg-event-type": "Notification"}, eg, "signature_mismatch", query="code=guessed"),
    case("azure-event-grid", "wrong_secret", ["another-secret"], {"aeg-event-type": "Notification"}, eg, "signature_mismatch", query="code=" + code),
    case("azure-event-grid", "missing_signature", [code], {"aeg-event-type": "Notification"}, eg, "missing_signature"),
]

text = json.dumps(fixtures, indent=1, sort_keys=False) + "\n"
if "--check" in sys.argv:
    current = open(OUT).read() if os.path.exists(OUT) else ""
    sys.exit(0 if current == text else "handshake_profile_fixtures.json is not current: run generate_handshake_profile_fixtures.py")
with open(OUT, "w") as f:
    f.write(text)
print(f"{len(fixtures)} cases → {os.path.normpath(OUT)}")
