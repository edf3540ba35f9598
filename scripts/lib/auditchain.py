"""The audit chain of gatewayd's store, independently of gatewayd: a second implementation of the
encoding documented in Sources/GatewayCore/Store/AuditChain.swift (docs/architecture.md, "The
audit chain"), for the scripts that write audit lines themselves (bench-ready) or judge a store
without gatewayd's code (crash-test). Standard library only."""

import hashlib

NAME = "gatewayd-audit/1"
GENESIS = "0" * 64


def _field(text):
    """A field: its length (4 bytes, big endian) then its UTF-8 bytes; absent: length FFFFFFFF."""
    if text is None:
        return b"\xff\xff\xff\xff"
    data = text.encode()
    return len(data).to_bytes(4, "big") + data


def line_hash(previous, seq, document_id, from_state, to_state, at, cause):
    """The hash of one line (lowercase hex), `at` exactly as stored."""
    fields = [NAME, previous, str(seq), document_id, from_state, to_state, at, cause]
    return hashlib.sha256(b"".join(_field(field) for field in fields)).hexdigest()


def chained(db, lines):
    """`lines` (document_id, from_state, to_state, at, cause) as rows to insert after the chain's
    head: (seq, document_id, from_state, to_state, at, cause, previous_hash, hash)."""
    seq, previous = db.execute("SELECT seq, hash FROM transition ORDER BY seq DESC LIMIT 1").fetchone() or (0, GENESIS)
    rows = []
    for document_id, from_state, to_state, at, cause in lines:
        seq += 1
        digest = line_hash(previous, seq, document_id, from_state, to_state, at, cause)
        rows.append((seq, document_id, from_state, to_state, at, cause, previous, digest))
        previous = digest
    return rows


def first_break(db):
    """None when every line follows the one before it, else (seq, document_id, what is wrong)."""
    previous = GENESIS
    for seq, document_id, from_state, to_state, at, cause, stored_previous, stored in db.execute(
            "SELECT seq, document_id, from_state, to_state, at, cause, previous_hash, hash FROM transition ORDER BY seq"):
        if stored is None or stored_previous is None:
            return seq, document_id, "no chain hash"
        if stored_previous != previous:
            return seq, document_id, "previous_hash is not the hash of the line before (a line deleted or moved)"
        if line_hash(stored_previous, seq, document_id, from_state, to_state, at, cause) != stored:
            return seq, document_id, "hash does not match the line (edited)"
        previous = stored
    return None
