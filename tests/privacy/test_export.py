"""A copy of one's data: the ZIP of a demo customer (privacy staff) and of a demo employee (their
own, every organization), read back with zipfile, json and csv; both downloads audited; another
organization's staff refused. Over real HTTP against the seeded demo."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from sync_server.app import create_app
from sync_server.config import ServerConfig
from sync_server.demo import DEMO_ORGS, demo_id, seed_demo
from sync_server.serve import BackgroundServer
from sync_server.services import Services
from tests.sync_server.conftest import JWT_KEY, sqlite_template  # noqa: F401

DEMO_PASSWORD = "demo-2026!"
ACME, GLOBEX = DEMO_ORGS


class Demo:
    def __init__(self, url: str, org_ids: dict[str, str]) -> None:
        self.url = url
        self.org_ids = org_ids
        self.tokens: dict[str, str] = {}

    def get(self, email: str, path: str, **kwargs: object) -> requests.Response:
        if email not in self.tokens:
            answer = requests.post(
                f"{self.url}/api/v1/auth/login", json={"email": email, "password": DEMO_PASSWORD}, timeout=30
            )
            assert answer.status_code == 200, answer.text
            self.tokens[email] = answer.json()["access_token"]
        headers = {"Authorization": f"Bearer {self.tokens[email]}"}
        return requests.get(f"{self.url}/api/v1{path}", headers=headers, timeout=60, **kwargs)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def demo(sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:  # noqa: F811
    import shutil

    data_dir = tmp_path_factory.mktemp("demo") / "server"
    shutil.copytree(sqlite_template, data_dir)
    config = ServerConfig(data_dir=data_dir, jwt_key=JWT_KEY).for_tests()
    services = Services.build(config)
    try:
        seed_demo(services, DEMO_PASSWORD)
        with services.store.admin_session() as db:
            from sqlalchemy import select

            from common.schema import Organization

            org_ids = {
                name: org_id for org_id, name in db.execute(select(Organization.id, Organization.name))
            }
        with BackgroundServer(create_app(config, services), threads=4) as http:
            yield Demo(http.url, org_ids)
    finally:
        services.store.dispose()


def _read(answer: requests.Response) -> tuple[dict, zipfile.ZipFile]:  # type: ignore[type-arg]
    assert answer.status_code == 200, answer.text
    assert answer.headers["Content-Type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(answer.content))
    assert {"data.json", "README.txt", "audit_events.csv"} <= set(archive.namelist())
    return json.loads(archive.read("data.json")), archive


def _csv(archive: zipfile.ZipFile, name: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(archive.read(name).decode("utf-8"))))


def test_a_customers_copy_holds_their_records_in_every_module(demo: Demo) -> None:
    acme = demo.org_ids[ACME.name]
    request_id = demo_id(ACME.key, "dsr", 0)
    customer_id = demo_id(ACME.key, "customer", 3)
    data, archive = _read(demo.get("admin@acme.test", f"/orgs/{acme}/privacy/requests/{request_id}/export"))
    [org] = data["organizations"]
    records = org["records"]
    [customer] = records["customer"]
    assert customer["id"] == customer_id and customer["name"]
    # Their requests, and their documents in sales (orders or invoices) when the demo made any.
    assert any(r["id"] == request_id for r in records["data_subject_request"])
    assert [row["name"] for row in _csv(archive, "customer.csv")] == [customer["name"]]
    assert {f"{entity}.csv" for entity in records} <= set(archive.namelist())
    # The audit events about those records, opened with the subject's key.
    created = [e for e in org["audit_events"] if e["entity"] == "customer" and e["before"] is None]
    assert created and created[0]["after"]["name"] == customer["name"]
    readme = archive.read("README.txt").decode()
    assert "customer.csv" in readme and "email: the email (your personal data)" in readme
    # The download is audited.
    audit = demo.get("admin@acme.test", f"/orgs/{acme}/audit", params={"action": "privacy.export"})
    assert any(e["entity_id"] == request_id for e in audit.json()["events"])


def test_an_employees_own_copy_holds_account_sign_ins_and_hr_records(demo: Demo) -> None:
    data, archive = _read(demo.get("employee@acme.test", "/me/data-export"))
    assert data["account"]["email"] == "employee@acme.test"
    assert "password_hash" not in data["account"]
    assert data["sign_in_history"], "the sign-in of this test is in the history"
    [org] = data["organizations"]
    assert org["org_name"] == ACME.name and org["roles"] == ["employee"]
    records = org["records"]
    assert records["membership"][0]["roles"] == ["employee"]
    [employee] = records["employee"]
    assert employee["user_id"] == data["account"]["id"]
    assert set(records) - {"membership", "employee", "employee_directory"}, records.keys()
    assert "app_user.csv" in archive.namelist() and "sign_in_history.csv" in archive.namelist()
    assert _csv(archive, "employee.csv")[0]["id"] == employee["id"]
    assert any(e["action"].startswith("auth.") for e in org["audit_events"])
    audit = demo.get(
        "admin@acme.test", f"/orgs/{demo.org_ids[ACME.name]}/audit", params={"action": "privacy.export"}
    )
    assert any(e["entity_id"] == data["account"]["id"] for e in audit.json()["events"])


def test_another_organizations_staff_cannot_download_a_copy(demo: Demo) -> None:
    acme, globex = demo.org_ids[ACME.name], demo.org_ids[GLOBEX.name]
    request_id = demo_id(ACME.key, "dsr", 0)
    # Through their own organization: no such request there.
    answer = demo.get("admin@globex.test", f"/orgs/{globex}/privacy/requests/{request_id}/export")
    assert answer.status_code == 404
    assert answer.json()["error"]["code"] == "not_found"
    # Through the other organization's path: not a member.
    answer = demo.get("admin@globex.test", f"/orgs/{acme}/privacy/requests/{request_id}/export")
    assert answer.status_code in (403, 404)
    assert "application/zip" not in answer.headers["Content-Type"]
    # Staff without privacy.manage in the right organization.
    answer = demo.get("sales@acme.test", f"/orgs/{acme}/privacy/requests/{request_id}/export")
    assert answer.status_code == 403
    # One's own export never holds another organization's records.
    data, _ = _read(demo.get("employee@globex.test", "/me/data-export"))
    assert [o["org_id"] for o in data["organizations"]] == [globex]


def test_the_exports_are_in_the_openapi_document_as_zip_files(demo: Demo) -> None:
    spec = requests.get(f"{demo.url}/api/v1/openapi.json", timeout=30).json()
    for path in ("/api/v1/orgs/{org_id}/privacy/requests/{request_id}/export", "/api/v1/me/data-export"):
        ok = spec["paths"][path]["get"]["responses"]["200"]
        assert ok["content"]["application/zip"]["schema"] == {"type": "string", "format": "binary"}
