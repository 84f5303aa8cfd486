#!/usr/bin/env python3
"""An independent implementation of the Logbook journal format, envelope v2 (docs/FORMAT.md §2-§8).

Written from the document alone, with two libraries: `rfc8785` (canonical JSON) and
`cryptography` (Ed25519, SHA-256). It shares no code with the Swift implementation.

    python3 tools/logbook_format.py sign STATEMENT.json KEYFILE   > signed.json
    python3 tools/logbook_format.py verify JOURNAL.jsonl

`sign` reads a statement object (plan, task?, persona, type, data, trace_id?, idempotency_key?,
expect_task_seq?, at, seen {seq, hash}), adds the key_id of the key in KEYFILE (a base64 32-byte
Ed25519 seed, the format of keys/<PERSONA>.key) and prints {"sig": ..., "stmt": ...} in RFC 8785
form: `stmt` is exactly the signed bytes, `sig` the base64 Ed25519 signature over
"logbook statement v2\\n" followed by them.

`verify` checks every line of a journal: canonical form, envelope version, seq order, the hash
chain, each line's hash, each signature with the key the journal records (genesis, key_changed)
for the key id the plan trusts, each statement's seen reference, and that no statement is
appended twice. It prints `ok <events> <head>` and exits 0, or `seq <n>: <finding>` and exits 1.
"""
import base64
import hashlib
import json
import sys

import rfc8785
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

DOMAIN = b"logbook statement v2\n"


def canonical(value) -> bytes:
    return rfc8785.dumps(value)


def sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def key_id(persona: str, raw_public: bytes) -> str:
    """C2SP signed-note key id: NAME+hex(first 4 bytes of SHA-256(NAME || 0x0A || 0x01 || key))."""
    h = hashlib.sha256(persona.encode() + b"\n\x01" + raw_public).digest()
    return persona + "+" + h[:4].hex()


def raw_public(public: Ed25519PublicKey) -> bytes:
    return public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def sign(statement_path: str, key_path: str) -> int:
    with open(statement_path, "rb") as f:
        stmt = json.loads(f.read())
    with open(key_path, "rb") as f:
        seed = base64.b64decode(f.read().strip(), validate=True)
    if len(seed) != 32:
        print("the key file does not hold a base64 32-byte Ed25519 seed", file=sys.stderr)
        return 2
    key = Ed25519PrivateKey.from_private_bytes(seed)
    stmt["key_id"] = key_id(stmt["persona"], raw_public(key.public_key()))
    signed = canonical(stmt)
    sig = key.sign(DOMAIN + signed)
    out = canonical({"sig": base64.b64encode(sig).decode(), "stmt": stmt})
    assert signed in out  # RFC 8785 writes the nested object verbatim
    sys.stdout.buffer.write(out + b"\n")
    return 0


class Finding(Exception):
    def __init__(self, seq, message):
        super().__init__(f"seq {seq}: {message}")


def verify(journal_path: str) -> int:
    with open(journal_path, "rb") as f:
        data = f.read()
    if not data.endswith(b"\n"):
        print("the journal does not end with a newline (a torn last line)")
        return 1
    lines = data[:-1].split(b"\n")
    hashes = []          # chain hash of seq k at index k
    statements = []      # SHA-256 of seq k's statement bytes
    keys = {}            # key id -> (persona, Ed25519PublicKey), as the journal records them
    trusted = {}         # persona -> key id the plan trusts now (None: unsigned)
    plan_digest = None
    try:
        for seq, line in enumerate(lines):
            try:
                event = json.loads(line)
            except ValueError as e:
                raise Finding(seq, f"not JSON: {e}")
            if canonical(event) != line:
                raise Finding(seq, "the line is not in RFC 8785 canonical form")
            if event.get("v") != 2:
                raise Finding(seq, "not envelope v2")
            if event.get("seq") != seq:
                raise Finding(seq, f"the line at position {seq} says seq {event.get('seq')}")
            stmt = event["stmt"]
            # What is hashed: the line object without "hash" (its signature, facts and position included).
            hashed = {k: v for k, v in event.items() if k != "hash"}
            if sha256(canonical(hashed)) != event["hash"]:
                raise Finding(seq, "the hash does not match the line's content")
            # What is signed: the stmt bytes as they stand in the line (RFC 8785 copies them verbatim).
            signed = canonical(stmt)
            if b'"stmt":' + signed not in line:
                raise Finding(seq, "the stmt bytes are not in the line")
            if seq == 0:
                plan_digest = event["prev"]
                if stmt["type"] not in ("created", "migrated") or stmt["data"].get("plan_digest") != plan_digest:
                    raise Finding(0, "the genesis must be created/migrated with prev = data.plan_digest")
                for persona, entry in stmt["data"]["personas"].items():
                    kid = entry.get("key_id")
                    trusted[persona] = kid
                    if kid is not None:
                        raw = base64.b64decode(entry["public_key"], validate=True)
                        if key_id(persona, raw) != kid:
                            raise Finding(0, f"the genesis key of {persona} does not hash to {kid}")
                        keys[kid] = (persona, Ed25519PublicKey.from_public_bytes(raw))
            elif event["prev"] != hashes[seq - 1]:
                raise Finding(seq, f"prev is not the hash of seq {seq - 1}")
            # The head the agent saw: before it, and this journal's event at that seq.
            seen = stmt["seen"]
            if not seen["seq"] < seq:
                raise Finding(seq, f"its statement saw seq {seen['seq']}, which is not before it")
            expected = plan_digest if seen["seq"] == -1 else hashes[seen["seq"]]
            if seen["hash"] != expected:
                raise Finding(seq, f"its statement saw seq {seen['seq']} with hash {seen['hash']}, but that event's hash is {expected}")
            digest = hashlib.sha256(signed).digest()
            if digest in statements[seen["seq"] + 1:]:
                raise Finding(seq, f"its statement was already appended at seq {statements.index(digest, seen['seq'] + 1)}")
            # The signature: with the key the plan trusts for the persona, as the journal records it.
            kid = stmt.get("key_id")
            want = trusted.get(stmt["persona"], "(not a persona of the plan)")
            if kid != want:
                raise Finding(seq, f"key_id {kid} is not the key the plan trusts for {stmt['persona']} ({want})")
            if kid is not None:
                if "sig" not in event:
                    raise Finding(seq, "the persona has a key, the event is unsigned")
                persona, public = keys[kid]
                try:
                    public.verify(base64.b64decode(event["sig"], validate=True), DOMAIN + signed)
                except InvalidSignature:
                    raise Finding(seq, f"the signature does not verify with {kid}")
            elif "sig" in event:
                raise Finding(seq, "a signature on an unsigned statement")
            if stmt["type"] == "key_changed":
                d = stmt["data"]
                trusted[d["persona"]] = d.get("key_id")
                if d.get("key_id") is not None:
                    raw = base64.b64decode(d["public_key"], validate=True)
                    if key_id(d["persona"], raw) != d["key_id"]:
                        raise Finding(seq, "the new key does not hash to its key id")
                    keys[d["key_id"]] = (d["persona"], Ed25519PublicKey.from_public_bytes(raw))
            hashes.append(event["hash"])
            statements.append(digest)
    except Finding as f:
        print(f)
        return 1
    except (KeyError, TypeError, ValueError) as e:
        print(f"seq {len(hashes)}: malformed event ({type(e).__name__}: {e})")
        return 1
    if not hashes:
        print("the journal is empty")
        return 1
    print(f"ok {len(hashes)} {hashes[-1]}")
    return 0


def main(argv) -> int:
    if len(argv) == 4 and argv[1] == "sign":
        return sign(argv[2], argv[3])
    if len(argv) == 3 and argv[1] == "verify":
        return verify(argv[2])
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
