#!/usr/bin/env python3
"""Writes checkpoint.txt and checkpoint-proofs.json, an independent implementation of the
RFC 6962 tree (the recursive definitions of RFC 6962 §2.1) and the C2SP signed-note format,
to pin Logbook's Swift implementation (CheckpointTests). Needs `cryptography`.

    python3 make_checkpoint_golden.py   # in this folder
"""
import base64, hashlib, json
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives import serialization

H = lambda b: hashlib.sha256(b).digest()
leaf = lambda d: H(b"\x00" + d)
node = lambda l, r: H(b"\x01" + l + r)

def k_of(n):
    k = 1
    while k * 2 < n:
        k *= 2
    return k

def mth(d):
    if len(d) == 0: return H(b"")
    if len(d) == 1: return leaf(d[0])
    k = k_of(len(d))
    return node(mth(d[:k]), mth(d[k:]))

def path(m, d):
    if len(d) == 1: return []
    k = k_of(len(d))
    return path(m, d[:k]) + [mth(d[k:])] if m < k else path(m - k, d[k:]) + [mth(d[:k])]

def subproof(m, d, b):
    n = len(d)
    if m == n: return [] if b else [mth(d)]
    k = k_of(n)
    return subproof(m, d[:k], b) + [mth(d[k:])] if m <= k else subproof(m - k, d[k:], False) + [mth(d[:k])]

b64 = lambda b: base64.b64encode(b).decode()

# The leaves are 32-byte "event hashes", as in a Logbook journal.
leaves = [H(b"golden event %d" % i) for i in range(13)]
origin = "logbook/ws-00112233445566ff/EP-GOLDEN"
body = "%s\n%d\n%s\n" % (origin, len(leaves), b64(mth(leaves)))

def sig_line(name):
    key = Ed25519PrivateKey.from_private_bytes(H(b"logbook-golden-seed/" + name.encode()))
    pub = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    key_id = H(name.encode() + b"\n\x01" + pub)[:4]
    return "\u2014 %s %s\n" % (name, b64(key_id + key.sign(body.encode())))

with open("checkpoint.txt", "w", encoding="utf-8", newline="") as f:
    f.write(body + "\n" + sig_line("SUPERVISOR") + sig_line("QA"))

with open("checkpoint-proofs.json", "w") as f:
    json.dump({
        "leaves_hex": [l.hex() for l in leaves],
        "roots_b64": [b64(mth(leaves[:n])) for n in range(len(leaves) + 1)],
        "inclusion": [{"index": i, "size": n, "path_b64": [b64(x) for x in path(i, leaves[:n])]}
                      for n in (1, 5, 13) for i in range(n)],
        "consistency": [{"old": m, "new": n, "path_b64": [b64(x) for x in subproof(m, leaves[:n], True)]}
                        for n in (5, 8, 13) for m in range(1, n + 1)],
    }, f, indent=1, sort_keys=True)
    f.write("\n")
