"""sealed.py - opening the personal data nrmd stored sealed
(docs/data-protection.md), independently of nrmd: the tests read what
the database holds with the KEK file of the daemon under test, so a test
that once compared a plaintext column now compares the opened value (and
checks the plaintext column is empty).  Also a check of the format."""

import os
import subprocess
import uuid

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from nrm_e2e.env import NRMCTL, clean_env

SUBJECT_FIELDS = ("given_name", "family_name", "birth_date", "phone",
                  "address", "narrative")


def load_kek(path):
    return bytes.fromhex(open(path).read().strip())


def unwrap(kek, key_id, kek_id, wrapped):
    aad = ("nrm-data-key/%s/%s" % (key_id, kek_id)).encode()
    return AESGCM(kek).decrypt(wrapped[:12], wrapped[12:], aad)


def open_value(dk, key_id, aad, ct):
    """The plaintext of a sealed value: 0x01 | key id | nonce | ct | tag."""
    assert ct[0] == 1, "unknown version %d" % ct[0]
    assert uuid.UUID(bytes=bytes(ct[1:17])) == uuid.UUID(key_id)
    return AESGCM(dk).decrypt(ct[17:29], ct[29:], aad.encode()).decode()


def _hex(v):
    return bytes.fromhex(v) if v else None


def _rows(db, where):
    cols = ", ".join("encode(sub.%s_ct, 'hex'), sub.%s::text" % (f, f)
                     for f in SUBJECT_FIELDS)
    return db.sql(
        "select s.id, k.id, k.kek_id, encode(k.wrapped, 'hex'), "
        "encode(s.reporter_reference_ct, 'hex'), s.reporter_reference, %s "
        "from intake.signal s left join care.data_key k "
        "on k.id = s.data_key_id left join care.subject sub "
        "on sub.signal_id = s.id where %s" % (cols, where))


def _open_row(kek, row, only=None):
    signal_id, key_id, kek_id, wrapped = row[:4]
    values = row[4:]
    if not key_id:
        assert not any(values), "plaintext stored without a data key"
        return {}
    dk = unwrap(kek, key_id, kek_id, _hex(wrapped))
    out = {}
    names = ("reporter_reference",) + SUBJECT_FIELDS
    for i, name in enumerate(names):
        ct, plain = values[2 * i], values[2 * i + 1]
        assert not plain, "%s stored in plaintext" % name
        if ct and (only is None or name in only):
            table = "intake.signal" if i == 0 else "care.subject"
            aad = "%s/%s/%s" % (table, name, signal_id)
            out[name] = open_value(dk, key_id, aad, _hex(ct))
    return out


def signal_values(db, kek_path, signal_id):
    """{field: plaintext} of one signal (reporter_reference and the
    subject's fields present), opened from the ciphertext columns; the
    plaintext columns must be empty."""
    rows = _rows(db, "s.id = '%s'" % signal_id)
    assert len(rows) == 1, rows
    return _open_row(load_kek(kek_path), rows[0])


def signal_ids_by_reference(db, kek_path):
    """{reporter reference: [signal ids]} over every signal stored with
    one (one query)."""
    kek = load_kek(kek_path)
    out = {}
    for row in _rows(db, "s.reporter_reference_ct is not null "
                     "or s.reporter_reference is not null"):
        try:
            ref = _open_row(kek, row, ("reporter_reference",)).get(
                "reporter_reference")
        except (InvalidTag, AssertionError):
            # a row test_data_at_rest tampered with on purpose: counted
            # under None, never as any reference
            ref = None
        out.setdefault(ref, []).append(row[0])
    return out


def all_values(db, kek_path):
    """Every personal value stored sealed in `db` that opens with the KEK
    (subjects, references, rationales), for scans that look for them
    elsewhere; rows other tests tampered with are skipped."""
    kek = load_kek(kek_path)
    out = []
    # a destroyed data key (erased on schedule or on request: no
    # wrapped key left) has nothing to open
    for row in _rows(db, "s.data_key_id is not null "
                     "and k.wrapped is not null"):
        try:
            out.extend(_open_row(kek, row).values())
        except (InvalidTag, AssertionError):
            pass
    for eid, key_id, kek_id, wrapped, ct in db.sql(
            "select d.id, k.id, k.kek_id, encode(k.wrapped, 'hex'), "
            "encode(d.rationale_ct, 'hex') from ident.decision d "
            "join care.data_key k on k.id = d.data_key_id "
            "where d.rationale_ct is not null and k.wrapped is not null"):
        try:
            dk = unwrap(kek, key_id, kek_id, _hex(wrapped))
            out.append(open_value(dk, key_id, "ident.decision/rationale/%s"
                                  % eid, _hex(ct)))
        except (InvalidTag, AssertionError):
            pass
    return out


def make_plaintext(c, sig, body, rationale):
    """Turn a signal nrmd stored sealed into a row as stored before 0017
    (plaintext, no data key), and its case's entry into one with a
    plaintext rationale, the plaintext triggers bypassed as a restored
    old database would have them."""
    s = body["subject"]
    c.sql(
        "begin; set local session_replication_role = replica; "
        "update care.subject set data_key_id = null, given_name = '%s', "
        "family_name = '%s', birth_date = '%s', given_name_ct = null, "
        "family_name_ct = null, birth_date_ct = null, phone_ct = null, "
        "address_ct = null, narrative_ct = null where signal_id = '%s'; "
        "update intake.signal set data_key_id = null, "
        "reporter_reference = '%s', reporter_reference_ct = null "
        "where id = '%s'; "
        "update ident.decision set data_key_id = null, rationale_ct = "
        "null, rationale = '%s' where case_id = (select id from care.case "
        "where signal_id = '%s'); "
        "delete from care.data_key where signal_id = '%s'; commit"
        % (s["given_name"], s["family_name"], s["birth_date"], sig,
           body["reporter_reference"], sig, rationale, sig, sig))


def new_kek(path):
    """A new KEK file at path (64 hex characters, mode 600)."""
    path.write_text(os.urandom(32).hex() + "\n")
    os.chmod(path, 0o600)
    return path


def ctl(cluster, *args, check=True):
    """nrmctl as the owner, text output; asserts exit 0 when check."""
    p = subprocess.run(
        [str(NRMCTL), *map(str, args)],
        env=clean_env({"NRM_DATABASE_URL": cluster.owner_url}),
        capture_output=True, text=True, timeout=300)
    if check:
        assert p.returncode == 0, (args, p.stdout, p.stderr)
    return p
