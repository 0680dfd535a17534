#!/usr/bin/env python3
"""Makes the signed and hashed examples of the audit log in schemas/: the receipts' audit_index,
two audit events (the receipt examples' report and status change), the checkpoint of the tree
of both, the inclusion proof of the first and the consistency proof from size 1 to 2; every
signature with the example key of RFC 8037 appendix A.1 (public: for examples only).

Run from the repository root: python3 schemas/sign_examples.py (needs python3-cryptography).
Every value in these documents is a string or a whole number, so sorted keys without white
space are their RFC 8785 canonical form."""

import base64, hashlib, json
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

D = "nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A"
b64 = lambda b: base64.urlsafe_b64encode(b).rstrip(b"=").decode()
unb64 = lambda s: base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))
jcs = lambda v: json.dumps(v, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
key = Ed25519PrivateKey.from_private_bytes(unb64(D))
x = b64(key.public_key().public_bytes_raw())
kid = b64(hashlib.sha256(('{"crv":"Ed25519","kty":"OKP","x":"%s"}' % x).encode()).digest())
header = b64(jcs({"alg": "EdDSA", "kid": kid}))

def sign(payload):
    return header + ".." + b64(key.sign((header + "." + b64(jcs(payload))).encode()))

sha = lambda b: hashlib.sha256(b).digest()
leaf = lambda event: sha(b"\x00" + jcs(event))
node = lambda l, r: sha(b"\x01" + l + r)

def load(name):
    with open(f"schemas/{name}") as f:
        return json.load(f)

def save(name, schema):
    with open(f"schemas/{name}", "w") as f:
        f.write(json.dumps(schema, indent=2, ensure_ascii=False) + "\n")

# The receipts' file keeps its own layout: only their signatures are replaced in its text.
with open("schemas/receipt.schema.json") as f:
    text = f.read()
receipts = json.loads(text)
report, status = receipts["examples"][0]["receipt"], receipts["examples"][1]["receipt"]
assert (report["audit_index"], status["audit_index"]) == (0, 1)
for example in receipts["examples"]:
    text = text.replace(example["signature"], sign(example["receipt"]))
with open("schemas/receipt.schema.json", "w") as f:
    f.write(text)

def link(event, prev, seq):
    event = dict(event, seq=seq, prev=prev)
    event["hash"] = sha(jcs(event)).hex()
    return event

first = link({
    "kind": "report.accepted", "at": report["received_at"], "member": report["member"],
    "report_id": report["report_id"], "content_sha256": report["content_sha256"],
    "items": [{"item_id": i["item_id"], "status": i["status"], "routed_to": i["routed_to"]}
              for i in report["items"]],
}, "0" * 64, 1)
second = link({
    "kind": "status.changed", "at": status["at"], "by": status["member"],
    "item_id": status["item_id"], "from": "routed", "to": status["status"],
}, first["hash"], 2)
root = node(leaf(first), leaf(second))

checkpoints = load("checkpoint.schema.json")
checkpoint = {"gateway": report["gateway"], "size": 2, "root": root.hex(),
              "at": "2026-11-22T14:00:00.000Z"}
checkpoint["signature"] = sign(checkpoint)
checkpoints["examples"] = [checkpoint]
save("checkpoint.schema.json", checkpoints)

proofs = load("audit-proof.schema.json")
proofs["examples"] = [{"index": 0, "size": 2, "event": first, "proof": [leaf(second).hex()]}]
save("audit-proof.schema.json", proofs)

consistency = load("audit-consistency.schema.json")
consistency["examples"] = [{"from": 1, "to": 2, "proof": [leaf(second).hex()]}]
save("audit-consistency.schema.json", consistency)
