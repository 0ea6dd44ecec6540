"""Policy versions: the current text ships as version 1; ops-server policy publish stores the
next version and notifies every member; at the next sign-in the user is asked to acknowledge
it, and the acknowledgement is recorded (and audited)."""

from __future__ import annotations

import uuid
from pathlib import Path

import requests
from sqlalchemy import select

from common.schema import AuditEvent
from sync_server import admin_ops
from tests.privacy.conftest import PASSWORD, PrivacyServer
from tests.sync_server.test_audit import _cli


def test_publishing_a_policy_notifies_everyone_and_asks_for_acknowledgement_at_sign_in(
    privacy_server: PrivacyServer, tmp_path: Path
) -> None:
    server = privacy_server
    email = f"p-{uuid.uuid4().hex[:10]}@acme.test"
    admin_ops.create_user(server.services.store, server.services.passwords, email, "Pat", PASSWORD)
    admin_ops.grant(server.services.store, email, server.a.id, "employee")
    shipped = requests.get(f"{server.url}/api/v1/policy", timeout=30).json()
    assert shipped["version"] >= 1
    if shipped["version"] == 1:
        assert "Your Rights" in shipped["text"] and shipped["effective_date"] == "2025-12-14"

    text = tmp_path / "policy.txt"
    text.write_text("Privacy Policy\n\nWe now keep sign-in history for one year.\n", "utf-8")
    result = _cli(
        server.config,
        "policy",
        "publish",
        str(text),
        "--summary",
        "Sign-in history: one year",
        "--effective",
        "2027-01-01",
    )
    assert result.returncode == 0, result.stderr
    version = shipped["version"] + 1
    assert f"policy version {version} published" in result.stdout

    # Every member is notified in the app.
    notes = server.call("GET", email, f"/orgs/{server.a.id}/notifications").json()["notifications"]
    assert any(n["kind"] == "legal.policy_change" and str(version) in n["title"] for n in notes)
    # At sign-in the console asks: not acknowledged yet, with the summary.
    mine = server.call("GET", email, "/me/policy").json()
    assert mine == {
        "version": version,
        "effective_date": "2027-01-01",
        "summary": "Sign-in history: one year",
        "acknowledged": False,
    }
    stale = server.call("POST", email, "/me/policy/acknowledgement", json={"version": version - 1})
    assert stale.status_code == 400
    done = server.call("POST", email, "/me/policy/acknowledgement", json={"version": version})
    assert done.status_code == 200 and done.json()["acknowledged"] is True
    assert server.call("GET", email, "/me/policy").json()["acknowledged"] is True
    with server.services.store.session(server.a.id) as db:
        acks = (
            db.execute(select(AuditEvent.after).where(AuditEvent.action == "privacy.policy_acknowledged"))
            .scalars()
            .all()
        )
    assert {"version": version} in acks
    assert (
        requests.get(f"{server.url}/api/v1/policy", timeout=30)
        .json()["text"]
        .startswith("Privacy Policy\n\nWe now")
    )
