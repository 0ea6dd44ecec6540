"""Erasure reaches every copy: the server store, the change log, the audit trail (crypto-shredded,
the chain still verifies) and a second workstation's encrypted store at its next sync.

Over real HTTP, on both stores, with real encrypted client stores.
"""

from __future__ import annotations

import uuid
from pathlib import Path

from sqlalchemy import select, text

from common.ids import new_id
from common.schema import Customer, SubjectKey
from tests.privacy.conftest import PrivacyServer, make_client, new_subject_name, open_and_complete
from tests.sync_server.test_audit import _cli


def test_erasure_of_a_customer_reaches_audit_change_log_and_every_copy(
    privacy_server: PrivacyServer, tmp_path: Path
) -> None:
    server = privacy_server
    name, email = new_subject_name(), f"ada-{uuid.uuid4().hex[:10]}@example.test"
    customer_id = new_id()
    # The second workstation already holds the customer before the erasure.
    other = make_client(server, server.a.email("sales"), server.a, tmp_path / "other")
    try:
        server.push(
            server.a.email("sales"),
            server.a,
            "sales.create_customer",
            id=customer_id,
            name=name,
            email=email,
            phone="+44 20 7946 0000",
            address="12 St James's Square",
            currency="EUR",
        )
        server.push(
            server.a.email("sales"),
            server.a,
            "sales.update_customer",
            id=customer_id,
            changes={"phone": "+44 20 7946 0001"},
            base={"phone": "+44 20 7946 0000"},
        )
        other.sync()
        [held] = [r for r in other.rows("customer") if r["id"] == customer_id]
        assert held["name"] == name
        audit = server.call(
            "GET",
            server.a.email("admin"),
            f"/orgs/{server.a.id}/audit",
            params={"entity": "customer", "entity_id": customer_id},
        )
        assert name in audit.text  # readable before the erasure (opened with the subject's key)

        request_id = open_and_complete(server, "customer", customer_id, "erasure")

        # The audit API: every event about the customer, the erasure's own "before" included.
        audit = server.call(
            "GET",
            server.a.email("admin"),
            f"/orgs/{server.a.id}/audit",
            params={"entity": "customer", "entity_id": customer_id},
        )
        assert audit.status_code == 200
        events = audit.json()["events"]
        assert len(events) == 3
        for secret in (name, email, "7946", "St James"):
            assert secret not in audit.text
        create = events[-1]
        assert create["after"]["name"] == create["after"]["email"] == "[erased]"
        erasure = events[0]
        assert erasure["action"] == "privacy.complete_data_subject_request"
        assert erasure["before"]["name"] == "[erased]"
        # Nor anywhere in the stored audit trail: only ciphertext, whose key is gone.
        with server.services.store.session(server.a.id) as db:
            stored = db.execute(text("SELECT before, after FROM audit_event")).all()
            assert not any(name in str(row) or email in str(row) for row in stored)
            key = db.execute(
                select(SubjectKey.wrapped_key, SubjectKey.erased_at).where(
                    SubjectKey.subject_type == "customer", SubjectKey.subject_id == customer_id
                )
            ).one()
            assert key.wrapped_key is None and key.erased_at is not None
            row = db.execute(select(Customer.name, Customer.email).where(Customer.id == customer_id)).one()
            assert tuple(row) == ("[erased]", None)
        # The chain still verifies: it covers the ciphertext.
        verify = server.call("GET", server.a.email("admin"), f"/orgs/{server.a.id}/audit/verify")
        assert verify.json()["intact"] is True
        result = _cli(server.config, "audit", "verify", "--org", server.a.id, "--data")
        assert result.returncode == 0, result.stdout + result.stderr

        # The change log: a fresh download gets the anonymized row, and the other copy too.
        pull = server.call("GET", server.a.email("sales"), f"/orgs/{server.a.id}/sync/pull")
        assert name not in pull.text and email not in pull.text
        other.sync()
        [held] = [r for r in other.rows("customer") if r["id"] == customer_id]
        assert (held["name"], held["email"], held["phone"], held["address"], held["erased"]) == (
            "[erased]",
            None,
            None,
            None,
            True,
        )
        request = server.call(
            "GET",
            server.a.email("admin"),
            f"/orgs/{server.a.id}/audit",
            params={"entity": "data_subject_request", "entity_id": request_id},
        )
        assert request.status_code == 200
    finally:
        other.session.close()
