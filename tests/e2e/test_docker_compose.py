"""docker-compose.yml parses, and wires the services as documented."""

import shutil
import subprocess

import pytest
import yaml

from nrm_e2e.env import ROOT, clean_env

COMPOSE = ROOT / "docker-compose.yml"


# The database passwords have no default (issue 14): compose needs all
# three from the environment.
PASSWORDS = {"NRM_PG_PASSWORD": "t-pg", "NRM_OWNER_PASSWORD": "t-owner",
             "NRM_APP_PASSWORD": "t-app"}


def _compose_config(env):
    exe = shutil.which("docker-compose")
    assert exe, "docker-compose is not installed (scripts/deps.sh installs it)"
    return subprocess.run([exe, "-f", str(COMPOSE), "config", "-q"],
                          capture_output=True, text=True, cwd=str(ROOT),
                          env=clean_env(env), timeout=60)


def test_docker_compose_config_is_valid():
    p = _compose_config(PASSWORDS)
    assert p.returncode == 0, p.stdout + p.stderr


@pytest.mark.parametrize("missing", sorted(PASSWORDS))
def test_docker_compose_refuses_without_a_password(missing):
    env = {k: v for k, v in PASSWORDS.items() if k != missing}
    p = _compose_config(env)
    assert p.returncode != 0, p.stdout + p.stderr
    assert missing in p.stdout + p.stderr


def test_no_default_password_in_compose_file():
    text = COMPOSE.read_text()
    for name in PASSWORDS:
        assert "${%s:-" % name not in text, name
        assert "${%s:?" % name in text, name


@pytest.fixture(scope="module")
def compose():
    with open(COMPOSE) as f:
        return yaml.safe_load(f)


def test_services_and_health_checks(compose):
    s = compose["services"]
    assert set(s) >= {"db", "migrate", "nrmd"}
    assert s["db"]["image"].startswith("postgres:15")
    assert "healthcheck" in s["db"] and "healthcheck" in s["nrmd"]
    assert "/healthz" in " ".join(map(str, s["nrmd"]["healthcheck"]["test"]))
    deps = s["nrmd"]["depends_on"]
    assert deps["db"]["condition"] == "service_healthy"
    assert deps["migrate"]["condition"] == "service_completed_successfully"
    assert "migrate" in " ".join(map(str, s["migrate"]["command"]))


def test_ports_published_on_loopback_only(compose):
    ports = [str(p) for p in compose["services"]["nrmd"]["ports"]]
    assert ports, "nrmd publishes no port"
    for p in ports:
        assert p.startswith("127.0.0.1:"), p
    assert any(p.endswith(":8080") for p in ports)
    assert any(p.endswith(":8443") for p in ports)
    for name, svc in compose["services"].items():
        if name != "nrmd":
            for p in svc.get("ports", []):
                assert str(p).startswith("127.0.0.1:"), (name, p)


def test_pseudonym_key_is_a_secret(compose):
    nrmd = compose["services"]["nrmd"]
    env = nrmd["environment"]
    assert env["NRM_PSEUDONYM_KEY_FILE"].startswith("/run/secrets/")
    names = [s if isinstance(s, str) else s["source"]
             for s in nrmd["secrets"]]
    assert env["NRM_PSEUDONYM_KEY_FILE"].rsplit("/", 1)[1] in names


HA_SERVICES = {"pg-monitor", "pg-node1", "pg-node2", "ha-roles",
               "migrate-ha", "nrmd-ha"}


def test_ha_profile_config_is_valid():
    """The "ha" profile (issue 17) parses too, and names its services."""
    exe = shutil.which("docker-compose")
    p = subprocess.run([exe, "-f", str(COMPOSE), "--profile", "ha",
                        "config", "--services"], capture_output=True,
                       text=True, cwd=str(ROOT), env=clean_env(PASSWORDS),
                       timeout=60)
    assert p.returncode == 0, p.stdout + p.stderr
    assert set(p.stdout.split()) >= HA_SERVICES | {"db", "nrmd"}


def test_ha_profile_wiring(compose):
    s = compose["services"]
    for name in HA_SERVICES:
        assert s[name].get("profiles") == ["ha"], name
    env = s["nrmd-ha"]["environment"]
    url = env["NRM_DATABASE_URL"]
    assert "host=pg-node1,pg-node2" in url
    assert "target_session_attrs=read-write" in url
    assert env["NRM_DB_SYNCHRONOUS"] == "require"
    assert "target_session_attrs=read-write" in \
        s["migrate-ha"]["environment"]["NRM_DATABASE_URL"]
    for p in s["nrmd-ha"]["ports"]:
        assert str(p).startswith("127.0.0.1:"), p
