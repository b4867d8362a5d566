"""The KEK under a PKCS#11 token (issue 15, docs/security.md "The KEK in a
PKCS#11 token"), with Debian's softhsm2 in a private SOFTHSM2_CONF: the
token holds an RSA key pair, the KEK file the KEK encrypted to it
(RSA-OAEP SHA-256); nrmd decrypts it inside the token at start-up, then
seals and opens personal data as with a plain KEK file.  A wrong PIN, a
PIN file others may read or a KEK file wrapped by another key keep nrmd
from starting, and no log line holds the PIN."""

import hashlib
import os
import shutil
import subprocess

import pytest

from nrm_e2e.cases import get_case, new_case
from nrm_e2e.env import INDICATORS_FILE, NRMD, ROOT, ROUTING_DIR, clean_env
from nrm_e2e.sealed import signal_values
from nrm_e2e.signals import adult_signal

MODULE = "/usr/lib/softhsm/libsofthsm2.so"
PIN = "4711-nrm"

pytestmark = pytest.mark.skipif(
    not (os.path.exists(MODULE) and shutil.which("softhsm2-util")
         and shutil.which("pkcs11-tool")),
    reason="softhsm2 and opensc are not installed (scripts/deps.sh)")


def sh(args, env):
    p = subprocess.run([str(a) for a in args], env=env, capture_output=True,
                       text=False, timeout=120)
    assert p.returncode == 0, (args, p.stdout[-2000:], p.stderr[-2000:])
    return p.stdout


@pytest.fixture(scope="module")
def token(workdir):
    """A softhsm2 token of this module: an RSA-3072 key pair "kek-wrap",
    a random KEK encrypted to it, and the PIN in a file."""
    top = workdir / "pkcs11"
    (top / "tokens").mkdir(parents=True)
    conf = top / "softhsm2.conf"
    conf.write_text("directories.tokendir = %s\nobjectstore.backend = file\n"
                    "log.level = ERROR\n" % (top / "tokens"))
    env = clean_env({"SOFTHSM2_CONF": str(conf)})
    sh(["softhsm2-util", "--init-token", "--free", "--label", "nrmkek",
        "--pin", PIN, "--so-pin", "so-%s" % PIN], env)
    p11 = ["pkcs11-tool", "--module", MODULE, "--token-label", "nrmkek"]
    sh(p11 + ["--login", "--pin", PIN, "--keypairgen", "--key-type",
              "rsa:3072", "--id", "01", "--label", "kek-wrap"], env)
    sh(p11 + ["--read-object", "--type", "pubkey", "--id", "01", "-o",
              top / "pub.der"], env)
    sh(["openssl", "pkey", "-pubin", "-inform", "DER", "-in",
        top / "pub.der", "-out", top / "pub.pem"], env)
    kek = os.urandom(32)
    (top / "kek.plain").write_text(kek.hex() + "\n")
    os.chmod(top / "kek.plain", 0o600)
    wrap(top, kek, top / "kek.wrapped", env)
    pin = top / "pin"
    pin.write_text(PIN + "\n")
    os.chmod(pin, 0o600)
    return {"dir": top, "env": {"SOFTHSM2_CONF": str(conf)}, "kek": kek,
            "wrapped": top / "kek.wrapped", "pin": pin,
            "uri": "pkcs11:token=nrmkek;object=kek-wrap;type=private"}


def wrap(top, kek, out, env):
    """The KEK encrypted to the token's public key, as an operator makes
    it (docs/security.md)."""
    raw = top / "raw.tmp"
    raw.write_bytes(kek)
    sh(["openssl", "pkeyutl", "-encrypt", "-pubin", "-inkey",
        top / "pub.pem", "-pkeyopt", "rsa_padding_mode:oaep", "-pkeyopt",
        "rsa_oaep_md:sha256", "-pkeyopt", "rsa_mgf1_md:sha256", "-in", raw,
        "-out", out], env)
    raw.unlink()
    os.chmod(out, 0o600)


def config(token, **over):
    c = {"data_kek_file": token["wrapped"],
         "data_kek_pkcs11_uri": token["uri"],
         "data_kek_pkcs11_pin_file": token["pin"],
         "data_kek_pkcs11_module": MODULE}
    c.update(over)
    return c


def test_nrmd_seals_with_a_kek_from_the_token(nrmd_factory, case_keys, db,
                                              token):
    d = nrmd_factory(config=config(token), env=token["env"])
    kid = hashlib.sha256(token["kek"]).digest()[:8].hex()
    assert 'keys loaded" current=%s all=%s pkcs11=yes' % (kid, kid) in \
        d.log_text()
    body = adult_signal()
    rec = new_case(d, case_keys["reporter"], body=body)
    r = get_case(d, case_keys["co13"], rec["case_id"])
    assert r.status_code == 200, r.text
    c = r.json()
    assert "decryption_failed" not in c
    assert c["subject"]["given_name"] == body["subject"]["given_name"]
    assert c["subject"]["narrative"] == body["narrative"]
    # stored under that KEK: the values open with the plain KEK
    sig = db.scalar("select signal_id from care.case where id = '%s'"
                    % rec["case_id"])
    assert db.scalar("select k.kek_id from intake.signal s join "
                     "care.data_key k on k.id = s.data_key_id "
                     "where s.id = '%s'" % sig) == kid
    v = signal_values(db, token["dir"] / "kek.plain", sig)
    assert v["given_name"] == body["subject"]["given_name"]
    assert PIN not in d.log_text()


def refused(token, workdir, cfg, tag):
    """nrmd with `cfg` exits at start-up; its stderr."""
    conf = workdir / ("pkcs11-%s.conf" % tag)
    conf.write_text("".join("%s = %s\n" % kv for kv in cfg.items()))
    env = clean_env(token["env"])
    p = subprocess.run([str(NRMD), "--config", str(conf)], env=env,
                       capture_output=True, text=True, timeout=60,
                       cwd=str(ROOT))
    assert p.returncode != 0, p.stderr
    assert PIN not in p.stderr
    return p.stderr


def test_bad_pin_or_files_keep_nrmd_from_starting(token, workdir, pki,
                                                  cluster):
    base = {"pseudonym_key_file": pki["pseudonym"],
            "database_url": cluster.app_url,
            "routing_dir": ROUTING_DIR, "indicators_file": INDICATORS_FILE,
            "log_level": "info"}
    # a wrong PIN
    bad = token["dir"] / "pin.bad"
    bad.write_text("0000\n")
    os.chmod(bad, 0o600)
    err = refused(token, workdir, dict(base, **config(
        token, data_kek_pkcs11_pin_file=bad)), "pin")
    assert "data_kek_file" in err and "token" in err, err
    # a PIN file others may read
    loose = token["dir"] / "pin.loose"
    loose.write_text(PIN + "\n")
    os.chmod(loose, 0o644)
    err = refused(token, workdir, dict(base, **config(
        token, data_kek_pkcs11_pin_file=loose)), "mode")
    assert "pin.loose" in err and "mode 0644" in err, err
    # a KEK file wrapped by another key (here: not wrapped at all)
    err = refused(token, workdir, dict(base, **config(
        token, data_kek_file=token["dir"] / "kek.plain")), "other")
    assert "could not decrypt the KEK file" in err, err
