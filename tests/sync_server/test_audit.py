"""The audit trail: append-only in the store, tamper-evident, verified by the real CLI, masked."""

from __future__ import annotations

import json
import subprocess
from typing import Any

import psycopg
import pytest
import sqlcipher3
from sqlalchemy import delete, insert, select, text, update
from sqlalchemy.exc import DBAPIError

from common.ids import new_id
from common.schema import AuditEvent, JournalEntry, JournalLine, OrgSequence, SubjectKey
from common.schema.base import table_of
from common.schema.types import utcnow
from common.wire import to_wire
from sync_server.audit import ChainProblem, chain_hash, head_mac, verify_chain
from sync_server.config import ServerConfig
from sync_server.store import prepare_store
from sync_server.subject_keys import SubjectKeys, is_sealed
from tests.common.textbook_month import Month
from tests.sync_server.conftest import World, mutation, set_up_books, warehouse
from tests.sync_server.ops_server import ops_server, shell_env
from tests.sync_server.test_reports_api import push_month


def _cli(config: ServerConfig, *args: str) -> subprocess.CompletedProcess[str]:
    extra = {"OPS_DATABASE_URL": config.database_url} if config.database_url else {}
    return ops_server(shell_env(config.data_dir, **extra), *args)


def _tamper(config: ServerConfig, sql: str) -> None:
    """Change the audit table behind the application's back, as an attacker with file/DB access."""
    if config.database_url is None:
        conn = sqlcipher3.connect(str(config.db_path))
        conn.execute(f"PRAGMA key = \"x'{config.database_key().hex()}'\"")
        conn.execute("DROP TRIGGER IF EXISTS audit_event_no_update")
        conn.execute("DROP TRIGGER IF EXISTS audit_event_no_delete")
        conn.execute(sql)
        conn.commit()
        conn.close()
        return
    url = config.database_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("ALTER TABLE audit_event DISABLE TRIGGER USER")
        conn.execute(sql)  # type: ignore[arg-type]
        conn.execute("ALTER TABLE audit_event ENABLE TRIGGER USER")


def _seed_events(world: World) -> None:
    pushes = [
        mutation("inventory.create_warehouse", id=new_id(), code=f"W{n}", name=f"W {n}") for n in range(5)
    ]
    assert world.push("warehouse@acme.test", world.a, pushes).status_code == 200


def test_the_store_refuses_to_edit_or_delete_audit_events(world: World) -> None:
    _seed_events(world)
    store = world.services.store
    for statement in (
        update(AuditEvent).where(AuditEvent.seq == 2).values(action="nothing.happened"),
        delete(AuditEvent).where(AuditEvent.seq == 2),
    ):
        # sqlcipher3's errors pass through SQLAlchemy unwrapped (its dialect expects sqlite3's).
        with (
            pytest.raises((DBAPIError, sqlcipher3.DatabaseError)) as refused,
            store.session(world.a.id, write=True) as session,
        ):
            session.execute(statement)
        assert "append-only" in str(refused.value) or "permission denied" in str(refused.value)
    with store.session(world.a.id) as session:
        assert (
            session.execute(select(AuditEvent.action).where(AuditEvent.seq == 2)).scalar()
            != "nothing.happened"
        )


@pytest.mark.parametrize("store_kind", ["postgres"])
def test_even_the_schema_owner_cannot_edit_audit_events_on_postgres(world: World) -> None:
    _seed_events(world)
    with pytest.raises(DBAPIError, match="append-only"), world.services.store.admin_session() as session:
        session.execute(text("UPDATE audit_event SET action = 'x'"))
    with pytest.raises(DBAPIError, match="append-only"), world.services.store.admin_session() as session:
        session.execute(text("TRUNCATE audit_event"))


def _last_seq(world: World) -> int:
    with world.services.store.session(world.a.id) as session:
        last = session.execute(select(AuditEvent.seq).order_by(AuditEvent.seq.desc())).scalars().first()
    assert last is not None
    return int(last)


def test_the_cli_names_the_first_broken_link(world: World) -> None:
    """The real ``ops-server audit verify``, as a subprocess, before and after tampering."""
    _seed_events(world)
    config = world.services.config
    intact = _cli(config, "audit", "verify", "--org", "Acme")
    assert intact.returncode == 0, intact.stderr
    assert "intact" in intact.stdout
    world.services.store.dispose()
    _tamper(
        config,
        f"UPDATE audit_event SET action = 'inventory.nothing' WHERE seq = 3 AND org_id = '{world.a.id}'",
    )
    broken = _cli(config, "audit", "verify", "--org", world.a.id)
    assert broken.returncode != 0
    assert "first bad sequence number: 3" in broken.stdout, broken.stdout + broken.stderr


@pytest.mark.parametrize(
    ("sql", "bad_seq"),
    [
        ("UPDATE audit_event SET after = NULL WHERE seq = 2", 2),
        ("UPDATE audit_event SET hash = prev_hash WHERE seq = 5", 5),
        ("DELETE FROM audit_event WHERE seq = 4", 4),
        ("DELETE FROM audit_event WHERE seq = {last}", None),
    ],
    ids=["edited", "rehashed", "removed", "truncated"],
)
def test_every_kind_of_tampering_is_detected(world: World, sql: str, bad_seq: int | None) -> None:
    _seed_events(world)
    last = _last_seq(world)
    world.services.store.dispose()
    _tamper(world.services.config, sql.format(last=last) + f" AND org_id = '{world.a.id}'")
    with world.services.store.session(world.a.id) as session:
        _, problem = verify_chain(session, world.a.id)
    assert problem is not None
    assert problem.seq == (bad_seq if bad_seq is not None else last)
    with world.services.store.session(world.b.id) as session:
        assert verify_chain(session, world.b.id)[1] is None


def _audit(world: World, email: str, **query: Any) -> Any:
    response = world.client.get(
        f"/api/v1/orgs/{world.a.id}/audit", query_string=query, headers=world.headers(email)
    )
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def test_audit_events_are_masked_for_the_reader(world: World) -> None:
    employee_id = new_id()
    created = world.push(
        "hr@acme.test",
        world.a,
        [
            mutation(
                "hr.create_employee",
                id=employee_id,
                name="Dana",
                job_title="Welder",
                salary=420000,
                salary_currency="EUR",
                bank_account="DE001",
                home_address="1 Main St",
            )
        ],
    )
    assert created.get_json()["results"][0]["status"] == "applied"
    [event] = _audit(world, "auditor@acme.test", entity="employee", entity_id=employee_id)["events"]
    assert event["action"] == "hr.create_employee" and event["actor"] == world.a.users["hr"]
    assert event["after"]["name"] == "Dana" and event["after"]["home_address"] == "1 Main St"
    assert {"salary", "salary_currency", "bank_account", "national_id"} <= set(event["masked"])
    assert "salary" not in event["after"] and "420000" not in repr(event)
    # A custom role that may read the audit trail and sensitive HR data sees everything.
    headers = world.headers("admin@acme.test")
    put = world.client.put(
        f"/api/v1/orgs/{world.a.id}/roles/payroll_auditor",
        json={"permissions": ["admin.audit", "hr.read", "hr.sensitive.read"]},
        headers=headers,
    )
    assert put.status_code == 200
    grant = world.client.put(
        f"/api/v1/orgs/{world.a.id}/members/{world.a.users['employee']}/roles",
        json={"roles": ["employee", "payroll_auditor"]},
        headers=headers,
    )
    assert grant.status_code == 200
    [full] = _audit(world, "employee@acme.test", entity="employee", entity_id=employee_id)["events"]
    assert full["after"]["salary"] == 420000 and "masked" not in full


def test_audit_listing_pages_newest_first(world: World) -> None:
    _seed_events(world)
    first = _audit(world, "auditor@acme.test", limit=3)
    seqs = [e["seq"] for e in first["events"]]
    assert seqs == sorted(seqs, reverse=True) and len(seqs) == 3
    second = _audit(world, "auditor@acme.test", limit=3, before_seq=first["next_before_seq"])
    assert max(e["seq"] for e in second["events"]) < min(seqs)
    bad = world.client.get(
        f"/api/v1/orgs/{world.a.id}/audit?limit=0", headers=world.headers("auditor@acme.test")
    )
    assert bad.status_code == 400 and bad.get_json()["error"]["details"]["field"] == "limit"


def test_denied_access_is_audited(world: World) -> None:
    world.client.get(f"/api/v1/orgs/{world.a.id}/audit", headers=world.headers("employee@acme.test"))
    events = _audit(world, "auditor@acme.test", entity="organization")["events"]
    denied = [e for e in events if e["action"] == "auth.access_denied"]
    assert denied and denied[0]["actor"] == world.a.users["employee"]
    assert denied[0]["after"]["reason"] == "forbidden"


def _create_paid_employee(world: World, salary: int) -> str:
    employee_id = new_id()
    created = world.push(
        "hr@acme.test",
        world.a,
        [mutation("hr.create_employee", id=employee_id, name="Robin", salary=salary, salary_currency="EUR")],
    )
    assert created.get_json()["results"][0]["status"] == "applied"
    return employee_id


def test_the_api_gives_no_hash_to_test_guesses_at_masked_values(world: World) -> None:
    """An admin without hr.sensitive.read sees the event with the salary masked, and nothing that
    would confirm a guess at it: no hash, no previous hash, no salt."""
    employee_id = _create_paid_employee(world, 6_543_210)
    [event] = _audit(world, "admin@acme.test", entity="employee", entity_id=employee_id)["events"]
    assert "salary" in event["masked"]
    assert not {"hash", "prev_hash", "salt"} & set(event), event
    every = _audit(world, "auditor@acme.test", limit=1000)["events"]
    assert all(not {"hash", "prev_hash", "salt"} & set(e) for e in every)


def test_each_event_hash_covers_a_random_salt(world: World) -> None:
    """Even with the stored hash, the right salary does not confirm without the event's salt."""
    employee_id = _create_paid_employee(world, 6_543_210)
    with world.services.store.session(world.a.id) as session:
        rows = [dict(r) for r in session.execute(select(AuditEvent.__table__)).mappings()]
    salts = [r["salt"] for r in rows]
    assert all(s is not None and len(bytes.fromhex(s)) == 16 for s in salts)
    assert len(set(salts)) == len(salts)
    [event] = [r for r in rows if (r["entity"], r["entity_id"]) == ("employee", employee_id)]
    # Stored sealed under the employee's own key (crypto-shredding), opened by readers.
    assert "6543210" not in str(event["after"])
    with world.services.store.session(world.a.id) as session:
        keys = SubjectKeys(session, world.a.id, world.services.store.audit_key())
        assert keys.open(event["after"]["salary"]) == 6_543_210
    assert chain_hash(event["prev_hash"], event) == event["hash"]
    assert chain_hash(event["prev_hash"], {**event, "salt": None}) != event["hash"]


def test_events_from_before_salts_still_verify(world: World) -> None:
    """A chain written before migration 0004 (no salts) verifies; so does one that continues it."""
    org = world.a.id
    with world.services.store.session(org, write=True) as session:
        seq, prev = session.execute(
            select(AuditEvent.seq, AuditEvent.hash).order_by(AuditEvent.seq.desc()).limit(1)
        ).one()
        legacy = {"org_id": org, "seq": seq + 1, "at": utcnow(), "action": "legacy.event", "salt": None}
        legacy.update(prev_hash=prev, hash=chain_hash(prev, legacy))
        session.execute(insert(AuditEvent).values(**legacy))
        session.execute(
            update(OrgSequence)
            .where(OrgSequence.org_id == org, OrgSequence.name == "audit")
            .values(
                value=seq + 1,
                extra=legacy["hash"],
                mac=head_mac(world.services.store.audit_key(), org, seq + 1, legacy["hash"]),
            )
        )
    _seed_events(world)
    with world.services.store.session(org) as session:
        count, problem = verify_chain(session, org)
    assert problem is None and count >= seq + 6
    world.services.store.dispose()
    _tamper(
        world.services.config,
        f"UPDATE audit_event SET salt = NULL WHERE seq = {seq + 2} AND org_id = '{org}'",
    )
    with world.services.store.session(org) as session:
        assert verify_chain(session, org)[1] == ChainProblem(
            seq + 2, "the event's contents do not match its hash"
        )


def _head_sql(org: str, keep: int) -> str:
    """Rewrite the counter row to the cut chain's head, as an attacker without the key can."""
    return (
        f"UPDATE org_sequence SET value = {keep}, extra = (SELECT hash FROM audit_event "
        f"WHERE org_id = '{org}' AND seq = {keep}) WHERE org_id = '{org}' AND name = 'audit'"
    )


@pytest.mark.parametrize(
    "attack",
    ["cut_and_rewrite_head", "cut_and_delete_head", "delete_everything", "unsign_head"],
)
def test_a_cut_chain_is_detected_whatever_is_done_to_its_head(world: World, attack: str) -> None:
    _seed_events(world)
    org, last = world.a.id, _last_seq(world)
    keep = last - 3
    cut = f"DELETE FROM audit_event WHERE org_id = '{org}' AND seq > {keep}"
    drop_head = f"DELETE FROM org_sequence WHERE org_id = '{org}' AND name = 'audit'"
    statements = {
        "cut_and_rewrite_head": [cut, _head_sql(org, keep)],
        "cut_and_delete_head": [cut, drop_head],
        "delete_everything": [f"DELETE FROM audit_event WHERE org_id = '{org}'", drop_head],
        "unsign_head": [f"UPDATE org_sequence SET mac = NULL WHERE org_id = '{org}' AND name = 'audit'"],
    }[attack]
    world.services.store.dispose()
    for sql in statements:
        _tamper(world.services.config, sql)
    broken = _cli(world.services.config, "audit", "verify", "--org", "Acme")
    assert broken.returncode == 1, broken.stdout + broken.stderr
    first_bad = {"delete_everything": 1, "unsign_head": last + 1}.get(attack, keep + 1)
    assert f"first bad sequence number: {first_bad}" in broken.stdout, broken.stdout + broken.stderr
    # Writing on does not launder it: a missing head stops writes (a fresh chain would hide the
    # old one); a head with a wrong MAC is continued but never signed again.
    pushed = world.push("warehouse@acme.test", world.a, [warehouse("AFTER")])
    if attack in ("cut_and_delete_head", "delete_everything"):
        assert pushed.status_code == 500 and pushed.get_json()["error"]["code"] == "internal_error"
    else:
        assert pushed.get_json()["results"][0]["status"] == "applied"
    assert _cli(world.services.config, "audit", "verify", "--org", "Acme").returncode == 1
    assert _cli(world.services.config, "audit", "verify", "--org", "Globex").returncode == 0


def _downgrade(config: ServerConfig, revision: str) -> None:
    """Take the store back to ``revision`` with the migrations' own downgrades."""
    from alembic import command
    from sqlalchemy import create_engine

    from common import migrate
    from common.db import create_sqlite_engine

    if config.database_url is None:
        engine = create_sqlite_engine(config.db_path, config.database_key())
    else:
        engine = create_engine(config.database_url)
    with engine.begin() as connection:
        alembic = migrate.alembic_config()
        alembic.attributes["connection"] = connection
        command.downgrade(alembic, revision)
    engine.dispose()


def test_a_store_from_before_signed_heads_is_signed_once_on_upgrade(world: World) -> None:
    _seed_events(world)
    config = world.services.config
    world.services.store.dispose()
    # The revisions after 0006 (invitations, the books) come again too.
    _downgrade(config, "0006")
    _tamper(config, "ALTER TABLE org_sequence DROP COLUMN mac")
    _tamper(config, "DROP TABLE employee_directory")  # revision 0006, also to come
    _tamper(config, "UPDATE alembic_version SET version_num = '0004'")
    prepare_store(config).dispose()  # what ops-server init/run does after an upgrade
    for name in ("Acme", "Globex", "system"):
        result = _cli(config, "audit", "verify", "--org", name)
        assert result.returncode == 0, result.stdout + result.stderr
    # Later, an unsigned head is never signed again: it is reported.
    _tamper(config, f"UPDATE org_sequence SET mac = NULL WHERE org_id = '{world.a.id}' AND name = 'audit'")
    prepare_store(config).dispose()
    assert _cli(config, "audit", "verify", "--org", "Acme").returncode == 1


def test_a_batch_of_new_customers_gets_one_key_each_opened_by_readers(world: World) -> None:
    """Keys of a push batch are made together (one insert): each new customer still has a key of
    its own, its values sealed under it and opened by readers, and the chain verifies."""
    customers = {new_id(): f"Customer {n} {new_id()[:6]}" for n in range(7)}
    pushed = world.push(
        "admin@acme.test",
        world.a,
        [mutation("sales.create_customer", id=i, name=name, currency="EUR") for i, name in customers.items()]
        + [
            mutation("sales.update_customer", id=i, changes={"name": f"{name} Ltd"}, base={"name": name})
            for i, name in list(customers.items())[:2]
        ],
    )
    assert {r["status"] for r in pushed.get_json()["results"]} == {"applied"}
    with world.services.store.session(world.a.id) as session:
        stored = {
            r.subject_id: r.wrapped_key
            for r in session.execute(
                select(SubjectKey.subject_id, SubjectKey.wrapped_key).where(
                    SubjectKey.subject_type == "customer"
                )
            )
        }
        assert set(customers) <= set(stored) and all(stored[i] for i in customers)
        events = session.execute(
            select(AuditEvent.entity_id, AuditEvent.after).where(AuditEvent.entity == "customer")
        ).all()
        keys = SubjectKeys(session, world.a.id, world.services.store.audit_key())
        opened = {}
        for entity_id, after in events:
            assert entity_id in customers and is_sealed(after["name"])
            opened.setdefault(entity_id, []).append(keys.open(after["name"]))
        assert verify_chain(session, world.a.id) == (len(session.execute(select(AuditEvent.seq)).all()), None)
    for i, name in customers.items():
        assert opened[i][0] == name
    assert [o[-1] for i, o in opened.items() if len(o) == 2] == [
        f"{customers[i]} Ltd" for i in list(customers)[:2]
    ]


def test_a_key_made_and_destroyed_in_one_transaction_is_stored_destroyed(world: World) -> None:
    """A subject erased in the same transaction that made its key (not yet stored) ends with one
    key row, destroyed; values sealed after that read ``[erased]``."""
    subject = ("customer", new_id())
    with world.services.store.session(world.a.id, write=True) as session:
        keys = SubjectKeys(session, world.a.id, world.services.store.audit_key())
        sealed = keys.seal(subject, "Ada")
        keys.destroy(subject)
        assert keys.seal(subject, "Ada") == "[erased]"
    with world.services.store.session(world.a.id) as session:
        rows = session.execute(
            select(SubjectKey.wrapped_key, SubjectKey.erased_at).where(SubjectKey.subject_id == subject[1])
        ).all()
        assert len(rows) == 1 and rows[0].wrapped_key is None and rows[0].erased_at is not None
        assert SubjectKeys(session, world.a.id, world.services.store.audit_key()).open(sealed) == "[erased]"


# Columns no audit image holds (sync_server.writes._UNAUDITED_KEYS but the id, which a nested
# row's image keeps).
_STAMPS = ("org_id", "version", "updated_at", "updated_by")


def _row_image(row: Any) -> dict[str, Any]:
    """A row as the audit API shows it in full: its columns but the stamps, as wire values."""
    return {k: to_wire(v) for k, v in sorted(dict(row).items()) if k not in _STAMPS}


def _post_an_invoice(world: World) -> str:
    """Set up organization A's books and push an invoice of one untaxed line, created and
    posted (its entry has two lines); the invoice's id."""
    set_up_books(world, world.a)
    customer, invoice = new_id(), new_id()
    line = {"id": new_id(), "description": "Service", "quantity": "2", "unit_price": 5000}
    pushed = world.push(
        "sales@acme.test",
        world.a,
        [
            mutation("sales.create_customer", id=customer, name="Ada"),
            mutation("sales.create_invoice", id=invoice, customer_id=customer, lines=[line]),
            mutation("sales.post_invoice", id=invoice),
        ],
    )
    assert [r["status"] for r in pushed.get_json()["results"]] == ["applied"] * 3, pushed.get_json()
    return invoice


def _posted_invoice(world: World) -> tuple[str, dict[str, Any], list[dict[str, Any]]]:
    """Organization A's books set up and an invoice pushed, created and posted in one push; the
    invoice's id, its journal entry as the store holds it as a full audit image (its lines in
    it: ``lines_json``), and its lines as the ``journal_line`` view shows them (by number)."""
    invoice = _post_an_invoice(world)
    entries, lines = table_of(JournalEntry), table_of(JournalLine)
    with world.services.store.session(world.a.id) as session:
        entry = _row_image(
            session.execute(select(entries).where(entries.c.source_id == invoice)).mappings().one()
        )
        rows = [
            _row_image(row)
            for row in session.execute(
                select(lines).where(lines.c.journal_entry_id == entry["id"]).order_by(lines.c.line_no)
            ).mappings()
        ]
    assert len(rows) == 2
    return invoice, entry, rows


def _give_role(world: World, user: str, role: str, permissions: list[str]) -> str:
    """A custom role with ``permissions`` granted to organization A's ``user`` (a builtin role's
    user, who keeps it); the user's e-mail."""
    headers = world.headers("admin@acme.test")
    put = world.client.put(
        f"/api/v1/orgs/{world.a.id}/roles/{role}", json={"permissions": permissions}, headers=headers
    )
    assert put.status_code == 200, put.get_json()
    grant = world.client.put(
        f"/api/v1/orgs/{world.a.id}/members/{world.a.users[user]}/roles",
        json={"roles": [user, role]},
        headers=headers,
    )
    assert grant.status_code == 200, grant.get_json()
    return world.a.email(user)


def test_a_documents_journal_entry_is_found_in_the_documents_event(world: World) -> None:
    """An invoice's entry, posted with it, has no event of its own: asked for the entry, one of
    its lines, or journal entries at all, the audit API answers with the invoice's event that
    posted it, the entry whole in it (its document, its lines, as the store holds them)."""
    invoice, entry, lines = _posted_invoice(world)
    [posted] = _audit(world, "auditor@acme.test", entity="journal_entry", entity_id=entry["id"])["events"]
    assert (posted["entity"], posted["entity_id"], posted["action"]) == (
        "invoice",
        invoice,
        "sales.post_invoice",
    )
    assert posted["after"]["postings"] == [entry] and "masked" not in posted
    assert entry["source_id"] == invoice and entry["deleted"] is False
    assert [[line["id"], line["debit"], line["credit"]] for line in lines] == [
        held[0:1] + held[2:4] for held in json.loads(entry["lines_json"])
    ]
    assert all(line["journal_entry_id"] == entry["id"] for line in lines)
    for line in lines:
        assert _audit(world, "auditor@acme.test", entity="journal_line", entity_id=line["id"])["events"] == [
            posted
        ]
    # Asked for the id alone (the console's "Entity id" without an entity), the same event.
    for held_id in (entry["id"], lines[0]["id"]):
        assert _audit(world, "auditor@acme.test", entity_id=held_id)["events"] == [posted]
    # The invoice's other events (its creation) hold no entry: not listed for entries or lines.
    invoice_events = _audit(world, "auditor@acme.test", entity="invoice", entity_id=invoice)["events"]
    assert [e["action"] for e in invoice_events] == ["sales.post_invoice", "sales.create_invoice"]
    for entity in ("journal_entry", "journal_line"):
        listed = _audit(world, "auditor@acme.test", entity=entity)["events"]
        assert [(e["entity"], e["entity_id"]) for e in listed] == [("invoice", invoice)], entity
    # Another organization's admin, asking in their own organization for this entry or its
    # lines, gets nothing of it, and may not ask in this one.
    for entity, entity_id in [("journal_entry", entry["id"]), ("journal_line", lines[0]["id"])]:
        elsewhere = world.client.get(
            f"/api/v1/orgs/{world.b.id}/audit",
            query_string={"entity": entity, "entity_id": entity_id},
            headers=world.headers("admin@globex.test"),
        )
        assert elsewhere.status_code == 200 and elsewhere.get_json()["events"] == []
        alone = world.client.get(
            f"/api/v1/orgs/{world.b.id}/audit",
            query_string={"entity_id": entity_id},
            headers=world.headers("admin@globex.test"),
        )
        assert alone.status_code == 200 and alone.get_json()["events"] == []
        across = world.client.get(
            f"/api/v1/orgs/{world.a.id}/audit",
            query_string={"entity": entity, "entity_id": entity_id},
            headers=world.headers("admin@globex.test"),
        )
        assert across.status_code in (403, 404) and entry["id"] not in across.get_data(as_text=True)


def test_a_documents_posting_is_masked_as_journal_rows(world: World) -> None:
    """A reader of the audit trail and of sales but not of the books sees the posted invoice's
    fields and, of its entry, its id only, the rest named in ``masked`` (its lines with it:
    ``postings.lines_json``); a reader of both sees everything."""
    invoice, entry, _lines = _posted_invoice(world)
    sales_reader = _give_role(world, "employee", "sales_auditor", ["admin.audit", "sales.read"])
    both = _give_role(
        world, "project_manager", "books_auditor", ["admin.audit", "sales.read", "finance.read"]
    )
    [full] = [
        e
        for e in _audit(world, both, entity="invoice", entity_id=invoice)["events"]
        if e["action"] == "sales.post_invoice"
    ]
    assert full["after"]["postings"] == [entry] and "masked" not in full
    [shown] = [
        e
        for e in _audit(world, sales_reader, entity="invoice", entity_id=invoice)["events"]
        if e["action"] == "sales.post_invoice"
    ]
    assert shown["seq"] == full["seq"] and shown["before"] == full["before"]
    document = {k: v for k, v in full["after"].items() if k != "postings"}
    assert {k: v for k, v in shown["after"].items() if k != "postings"} == document
    assert document["status"] == "posted" and document["number"]
    assert shown["after"]["postings"] == [{"id": entry["id"]}]
    hidden = {f"postings.{k}" for k in entry if k != "id"}
    assert set(shown["masked"]) == hidden and "postings.number" in hidden and "postings.lines_json" in hidden
    # Asked for the entry itself, the sales reader gets the same masked event.
    assert _audit(world, sales_reader, entity="journal_entry", entity_id=entry["id"])["events"] == [shown]


def test_every_entry_of_a_month_is_found_in_the_event_that_posted_it(world: World) -> None:
    """The textbook month, pushed step by step: asked for any of its journal entries, the audit
    API answers with the one event that holds it, the entry's own (the manual one) or its
    document's (its postings list it), not the document's other events (a payroll run's is run,
    approved, posted and paid); no two entries with the same event."""
    push_month(world, world.a, Month())
    with world.services.store.session(world.a.id) as session:
        entries = session.execute(select(JournalEntry.id, JournalEntry.source, JournalEntry.source_id)).all()
    sources = {source for _, source, _ in entries}
    assert {"manual", "invoice", "payment", "payroll_run", "payroll_payment"} <= sources, sources
    answered: dict[str, int] = {}
    for entry_id, source, source_id in entries:
        events = _audit(world, "auditor@acme.test", entity="journal_entry", entity_id=entry_id)["events"]
        assert len(events) == 1, (source, events)
        [event] = events
        if event["entity"] == "journal_entry":  # a manual entry keeps an event of its own
            assert event["entity_id"] == entry_id and source == "manual", (source, event)
        else:
            [posting] = [p for p in event["after"]["postings"] if p["id"] == entry_id]
            assert event["entity_id"] == source_id == posting["source_id"], (source, event)
        answered[entry_id] = event["seq"]
    assert len(set(answered.values())) == len(entries)  # each entry's own answer
