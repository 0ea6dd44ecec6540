"""The server's deployment files, checked as far as this machine can: the systemd units with
``systemd-analyze`` (syntax, then the hardening's exposure score), the Dockerfile with hadolint,
the compose file read back as YAML. There is no Docker engine here to build or run the image;
tests/installers/test_install_groups.py installs what its build step installs."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
SERVER = ROOT / "installers" / "server"
UNITS = ("ops-server.service", "ops-server-backup.service", "ops-server-backup.timer")


def _units_here(tmp_path: Path) -> Path:
    """The units with the program's path replaced by one that exists on this machine (verify
    checks that ExecStart names an executable)."""
    for name in UNITS:
        text = (SERVER / name).read_text("utf-8").replace("/opt/ops-server/bin/ops-server", "/bin/true")
        (tmp_path / name).write_text(text, "utf-8")
    return tmp_path


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze is not installed")
def test_systemd_units_verify_without_a_warning(tmp_path: Path) -> None:
    units = _units_here(tmp_path)
    result = subprocess.run(
        ["systemd-analyze", "verify", *(str(units / n) for n in UNITS)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0 and result.stderr.strip() == "", result.stderr
    # The check itself catches a mistake (it reports, with exit 0, what it ignores).
    broken = units / "broken.service"
    broken.write_text((units / UNITS[0]).read_text().replace("ProtectSystem=strict", "ProtectSystem=bogus"))
    said = subprocess.run(
        ["systemd-analyze", "verify", str(broken)], capture_output=True, text=True, check=False
    )
    assert "bogus" in said.stderr


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze is not installed")
def test_the_server_unit_is_hardened(tmp_path: Path) -> None:
    unit = (SERVER / "ops-server.service").read_text("utf-8")
    for setting in (
        "DynamicUser=yes",
        "ProtectSystem=strict",
        "ReadWritePaths=/var/lib/ops-server",
        "NoNewPrivileges=yes",
        "PrivateTmp=yes",
        "RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX",
        "CapabilityBoundingSet=\n",
        "ExecStart=/opt/ops-server/bin/ops-server run --host 127.0.0.1",
    ):
        assert setting in unit, setting
    units = _units_here(tmp_path)
    result = subprocess.run(
        ["systemd-analyze", "security", "--offline=yes", str(units / "ops-server.service")],
        capture_output=True,
        text=True,
        check=False,
    )
    score = re.search(
        r"Overall exposure level for ops-server\.service: ([0-9.]+)", result.stdout + result.stderr
    )
    assert score is not None, result.stdout + result.stderr
    assert float(score.group(1)) <= 2.0  # systemd calls up to 2.0 "OK", the best band


def test_the_dockerfile_passes_hadolint_and_runs_unprivileged_with_a_health_check() -> None:
    hadolint = Path(sys.executable).with_name("hadolint")
    dockerfile = SERVER / "Dockerfile"
    result = subprocess.run([str(hadolint), str(dockerfile)], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    text = dockerfile.read_text("utf-8")
    user = re.findall(r"^USER (\S+)", text, re.MULTILINE)
    assert user and not user[-1].startswith(("root", "0"))
    assert re.search(r"^HEALTHCHECK .*\n?.*/healthz", text, re.MULTILINE)
    assert "'.[server]'" in text and "desktop" not in re.sub(r"#.*", "", text)
    # Everything the Dockerfile copies is in the build context its .dockerignore leaves.
    ignore = (SERVER / "Dockerfile.dockerignore").read_text("utf-8")
    for source in re.findall(r"^COPY (?!--from)(.+) \S+$", text, re.MULTILINE):
        for item in source.split():
            assert (ROOT / item).exists(), item
            assert f"!{item}" in ignore or f"!{item.rstrip('/')}/" in ignore, item


def test_compose_runs_the_server_with_postgresql() -> None:
    compose = yaml.safe_load((SERVER / "compose.yaml").read_text("utf-8"))
    services = compose["services"]
    assert set(services) == {"db", "server"}
    db, server = services["db"], services["server"]
    assert db["image"].startswith("postgres:15")  # pg_dump in the server image is version 15
    assert server["depends_on"] == {"db": {"condition": "service_healthy"}}
    assert "pg_isready" in " ".join(db["healthcheck"]["test"])
    assert server["environment"]["OPS_DATABASE_URL"].startswith("postgresql://ops@db:5432/")
    assert ":" not in server["environment"]["OPS_DATABASE_URL"].split("//")[1].split("@")[0]  # no password
    assert server["environment"]["PGPASSWORD_FILE"] == "/run/secrets/db_password"
    assert server["ports"] == ["127.0.0.1:8750:8750"]
    assert server["build"]["dockerfile"] == "installers/server/Dockerfile"
    assert (
        SERVER / server["build"]["context"] / server["build"]["dockerfile"]
    ).resolve() == SERVER / "Dockerfile"
    # The keys' volume is not the database's.
    assert {v.split(":")[0] for v in server["volumes"]} == {"keys"} and "keys" in compose["volumes"]
    assert set(compose["secrets"]) == {"db_password"}


def test_the_container_entrypoint_initializes_before_running(tmp_path: Path) -> None:
    """The entrypoint with the real ops-server: ``run`` creates the store first; other commands
    run as given; the PostgreSQL password file must be readable."""
    entry = str(SERVER / "docker-entrypoint.sh")
    data = tmp_path / "data"
    env = {"PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin", "OPS_DATA_DIR": str(data)}
    shown = subprocess.run([entry, "run", "--help"], env=env, capture_output=True, text=True, check=True)
    assert "store ready: encrypted SQLite" in shown.stdout and "--threads" in shown.stdout
    assert {p.name for p in data.iterdir()} >= {"server.db", "server.key", "jwt.key", "audit.key"}
    verified = subprocess.run(
        [entry, "audit", "verify", "--org", "system"], env=env, capture_output=True, text=True, check=True
    )
    assert "audit chain of system is intact" in verified.stdout
    missing = subprocess.run(
        [entry, "audit", "verify", "--org", "system"],
        env={**env, "PGPASSWORD_FILE": str(tmp_path / "absent")},
        capture_output=True,
        text=True,
        check=False,
    )
    assert missing.returncode != 0 and "absent" in missing.stderr
