"""Tenant isolation: the session hook (both stores) and PostgreSQL row-level security."""

from __future__ import annotations

import psycopg
import pytest
from sqlalchemy import delete, func, insert, select, text, update

from common.ids import new_id
from common.permissions import ALL_PERMISSIONS
from common.schema import (
    Account,
    Base,
    Invoice,
    InvoiceLine,
    JournalBalance,
    JournalLine,
    Membership,
    Organization,
    TenantRow,
    Warehouse,
)
from common.schema.base import table_of
from common.schema.types import utcnow
from common.wire import Mutation
from sync_server import pg_security
from sync_server.config import ServerConfig
from sync_server.tenancy import _BOOKKEEPING, TENANT_TABLES, TenantScopeError
from sync_server.writes import apply_mutations
from tests.sync_server.conftest import World, mutation, set_up_books, warehouse


def _seed(world: World) -> tuple[str, str]:
    a, b = warehouse("A-WH"), warehouse("B-WH")
    assert world.push("warehouse@acme.test", world.a, [a]).status_code == 200
    assert world.push("warehouse@globex.test", world.b, [b]).status_code == 200
    return a["args"]["id"], b["args"]["id"]


def _row(org_id: str | None = None) -> dict[str, object]:
    values: dict[str, object] = {
        "id": new_id(),
        "code": "X",
        "name": "x",
        "version": 1,
        "updated_at": utcnow(),
    }
    if org_id is not None:
        values["org_id"] = org_id
    return values


def test_sessions_see_and_touch_only_their_organization(world: World) -> None:
    a_id, b_id = _seed(world)
    store = world.services.store
    with store.session(world.a.id, write=True) as session:
        assert session.execute(select(Warehouse.id)).scalars().all() == [a_id]
        assert session.execute(select(Warehouse.id).where(Warehouse.id == b_id)).first() is None
        # Bulk UPDATE/DELETE without a WHERE on org_id still touch only this organization.
        session.execute(update(Warehouse).values(name="renamed"))
        session.execute(delete(Warehouse).where(Warehouse.id == b_id))
        session.execute(insert(Warehouse).values(**_row()))  # stamped with this organization
    with store.session(world.b.id) as session:
        assert session.execute(select(Warehouse.id, Warehouse.name)).all() == [(b_id, "Warehouse B-WH")]
    with store.session(world.a.id) as session:
        assert session.execute(select(Warehouse.org_id).distinct()).scalars().all() == [world.a.id]


def test_writes_naming_another_organization_are_refused(world: World) -> None:
    store = world.services.store
    with pytest.raises(TenantScopeError), store.session(world.a.id, write=True) as session:
        session.execute(insert(Warehouse).values(**_row(world.b.id)))
    with pytest.raises(TenantScopeError), store.session(world.a.id, write=True) as session:
        session.execute(insert(Warehouse), [_row(world.a.id), _row(world.b.id)])
    with pytest.raises(TenantScopeError), store.session(world.a.id, write=True) as session:
        session.execute(update(Warehouse).values(org_id=world.b.id))


def test_commands_for_one_organization_through_another_ones_session_are_refused(world: World) -> None:
    """A push's slice runs its counters' and processed commands' statements past the session
    hook, each naming the organization it is given; a session of another organization (a bug,
    never a request) is refused before any of them runs, and nothing is written anywhere."""
    store = world.services.store
    user = world.b.users["warehouse"]
    batch = [Mutation(**warehouse("B-WH"))]
    with pytest.raises(TenantScopeError), store.session(world.a.id, user_id=user, write=True) as session:
        apply_mutations(session, world.b.id, user, None, ALL_PERMISSIONS, batch)
    for org_id in (world.a.id, world.b.id):
        with store.session(org_id) as session:
            assert session.execute(select(Warehouse.id)).all() == []


def test_a_session_without_an_organization_cannot_read_tenant_rows(world: World) -> None:
    _seed(world)
    with pytest.raises(TenantScopeError), world.services.store.session() as session:
        session.execute(select(Warehouse.id)).all()
    # Memberships only for the named user.
    with world.services.store.session(user_id=world.a.users["hr"]) as session:
        rows = session.execute(select(Membership.org_id)).scalars().all()
    assert rows == [world.a.id]


# -- PostgreSQL row-level security ------------------------------------------------------------


def _pg(config: ServerConfig) -> psycopg.Connection:
    assert config.database_url is not None
    return psycopg.connect(
        config.database_url.replace("postgresql+psycopg://", "postgresql://"), autocommit=True
    )


# Row-level security is PostgreSQL's: these tests run on that store only (no skip).
pg_only = pytest.mark.parametrize("store_kind", ["postgres"])


@pg_only
def test_every_tenant_table_forces_row_level_security(world: World) -> None:
    """Every tenant table ENABLEs and FORCEs row-level security; every tenant view (journal_line,
    revision 0019) is ``security_invoker``, so that its tables' row-level security applies to its
    reader, never its owner's rights (a view has no policies of its own)."""
    with _pg(world.services.config) as conn:
        rows = conn.execute(
            "SELECT c.relname, c.relrowsecurity, c.relforcerowsecurity FROM pg_class c "
            "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public' AND c.relkind = 'r'"
        ).fetchall()
        views: dict[str, bool] = dict(
            conn.execute(
                "SELECT c.relname, coalesce('security_invoker=true' = ANY (c.reloptions), false) FROM pg_class c "
                "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public' AND c.relkind = 'v'"
            ).fetchall()
        )
        app_role = conn.execute(
            "SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = %s",
            (world.services.config.app_role,),
        ).fetchone()
    state = {name: (enabled, forced) for name, enabled, forced in rows}
    assert set(state) | set(views) >= TENANT_TABLES
    assert not set(state) & set(views)
    assert {t for t in TENANT_TABLES if t in state and state[t] != (True, True)} == set()
    assert {t for t in TENANT_TABLES if t in views} == {"journal_line"}
    assert {t for t in TENANT_TABLES if t in views and not views[t]} == set()
    assert state["organization"][0] is True
    assert app_role == (False, False)


@pg_only
def test_a_tenant_view_that_reads_as_its_owner_is_put_back_to_its_reader(world: World) -> None:
    """``ops-server init`` (pg_security.ensure_row_level_security) puts ``security_invoker`` back
    on a tenant view that lost it; the app role then sees only its organization's lines."""
    config = world.services.config
    with _pg(config) as conn:
        conn.execute("ALTER VIEW journal_line SET (security_invoker = false)")
    with world.services.store.engine.begin() as connection:
        assert pg_security.ensure_row_level_security(connection) == ["journal_line"]
        assert pg_security.ensure_row_level_security(connection) == []
    with _pg(config) as conn:
        assert conn.execute(
            "SELECT reloptions FROM pg_class WHERE relname = 'journal_line' AND relkind = 'v'"
        ).fetchone() == (["security_invoker=true"],)


@pg_only
def test_the_app_role_with_one_org_set_sees_and_writes_only_that_org(world: World) -> None:
    a_id, b_id = _seed(world)
    role = world.services.config.app_role
    with _pg(world.services.config) as conn, conn.transaction():
        conn.execute(f"SET LOCAL ROLE {role}")
        conn.execute("SELECT set_config('app.org_id', %s, true)", (world.a.id,))
        assert [r[0] for r in conn.execute("SELECT id FROM warehouse").fetchall()] == [a_id]
        assert conn.execute(
            "SELECT count(*) FROM audit_event WHERE org_id = %s", (world.b.id,)
        ).fetchone() == (0,)
        assert conn.execute("UPDATE warehouse SET name = 'x' WHERE id = %s", (b_id,)).rowcount == 0
        assert conn.execute("DELETE FROM warehouse WHERE id = %s", (b_id,)).rowcount == 0
        assert [r[0] for r in conn.execute("SELECT id FROM organization").fetchall()] == [world.a.id]
    with _pg(world.services.config) as conn:
        with pytest.raises(psycopg.errors.InsufficientPrivilege), conn.transaction():
            conn.execute(f"SET LOCAL ROLE {role}")
            conn.execute("SELECT set_config('app.org_id', %s, true)", (world.a.id,))
            conn.execute(
                "INSERT INTO warehouse (org_id, id, code, name, address, archived, version, updated_at, deleted) "
                "VALUES (%s, %s, 'EVIL', 'evil', NULL, false, 1, now(), false)",
                (world.b.id, new_id()),
            )
        with pytest.raises(psycopg.errors.InsufficientPrivilege), conn.transaction():
            conn.execute(f"SET LOCAL ROLE {role}")
            conn.execute("SELECT set_config('app.org_id', %s, true)", (world.a.id,))
            conn.execute("UPDATE warehouse SET org_id = %s WHERE id = %s", (world.b.id, a_id))
        with conn.transaction():  # no organization set: nothing at all
            conn.execute(f"SET LOCAL ROLE {role}")
            assert conn.execute("SELECT count(*) FROM warehouse").fetchone() == (0,)
            assert conn.execute("SELECT count(*) FROM membership").fetchone() == (0,)
        b_names = conn.execute("SELECT name FROM warehouse WHERE id = %s", (b_id,)).fetchone()
    assert b_names == ("Warehouse B-WH",)


@pg_only
def test_requests_run_as_the_app_role(world: World) -> None:
    with world.services.store.session(world.a.id) as session:
        assert session.execute(text("SELECT current_user")).scalar() == world.services.config.app_role
        assert session.execute(text("SELECT current_setting('app.org_id')")).scalar() == world.a.id
        # Even a raw statement that forgets the organization sees only this one.
        names = session.execute(text("SELECT name FROM organization")).scalars().all()
    assert names == ["Acme"]
    with world.services.store.session(world.a.id) as session:
        assert session.execute(select(Organization.name)).scalars().all() == ["Acme"]


def test_another_organizations_draft_invoice_cannot_be_edited_nor_its_lines_taken(world: World) -> None:
    """A sales user of Globex who knows the ids of Acme's draft invoice and its line (a leaked
    link, a guessed id) can neither edit it nor move its line: to Globex they do not exist."""
    customer = mutation("sales.create_customer", id=new_id(), name="Acme's customer")
    line_id = new_id()
    draft = mutation(
        "sales.create_invoice", id=new_id(), customer_id=customer["args"]["id"],
        lines=[{"id": line_id, "description": "Consulting", "quantity": "2", "unit_price": 10_000}],
    )  # fmt: skip
    response = world.push("sales@acme.test", world.a, [customer, draft])
    assert [r["status"] for r in response.get_json()["results"]] == ["applied", "applied"]
    invoice_id = draft["args"]["id"]

    theirs = mutation("sales.create_customer", id=new_id(), name="Globex's customer")
    edits = [
        mutation("sales.update_invoice", id=invoice_id, changes={"customer_id": theirs["args"]["id"]},
                 base={"customer_id": customer["args"]["id"]}),
        mutation("sales.set_invoice_lines", id=invoice_id,
                 lines=[{"id": line_id, "description": "Free", "quantity": "1", "unit_price": 1}]),
    ]  # fmt: skip
    results = world.push("sales@globex.test", world.b, [theirs, *edits]).get_json()["results"]
    assert [r["status"] for r in results] == ["applied", "rejected", "rejected"]
    assert [(r["code"], r["message"]) for r in results[1:]] == [
        ("invalid", f"id: no invoice with id {invoice_id}")
    ] * 2
    assert all("Consulting" not in str(r) and "Acme" not in str(r) for r in results)

    # Globex's own draft may reuse the line's id: in Globex it is another row.
    own = mutation(
        "sales.create_invoice", id=new_id(), customer_id=theirs["args"]["id"],
        lines=[{"id": line_id, "description": "Globex line", "quantity": "1", "unit_price": 500}],
    )  # fmt: skip
    assert world.push("sales@globex.test", world.b, [own]).get_json()["results"][0]["status"] == "applied"

    with world.services.store.session(world.a.id) as session:
        invoice = session.execute(select(Invoice).where(Invoice.id == invoice_id)).scalar_one()
        line = session.execute(select(InvoiceLine).where(InvoiceLine.id == line_id)).scalar_one()
    assert (invoice.customer_id, invoice.total) == (customer["args"]["id"], 20_000)
    assert (line.description, line.invoice_id, line.deleted) == ("Consulting", invoice_id, False)


def test_every_mapped_class_keyed_by_organization_is_scoped() -> None:
    """The hook's criteria reach every mapped table or view with ``org_id``: ``TenantRow``
    subclasses, and the rest by name (journal_balance was once left out: an organization's
    session read and bulk-deleted the others' balances on the embedded store)."""
    mapped = [m.class_ for registry in (Base.registry, JournalLine.registry) for m in registry.mappers]
    keyed = {model for model in mapped if "org_id" in table_of(model).c}
    assert {JournalBalance, JournalLine} <= keyed
    assert all(issubclass(model, TenantRow) or model in _BOOKKEEPING for model in keyed)
    assert {table_of(model).name for model in keyed} <= TENANT_TABLES


def _post_entry(world: World, org, amount: int) -> None:  # type: ignore[no-untyped-def]
    set_up_books(world, org)
    with world.services.store.session(org.id) as session:
        ids = dict(
            session.execute(select(Account.code, Account.id).where(Account.code.in_(["1000", "6500"]))).all()
        )
    lines = [{"account_id": ids["6500"], "debit": amount}, {"account_id": ids["1000"], "credit": amount}]
    pushed = world.push(org.email("admin"), org, [
        mutation("finance.post_journal_entry", id=new_id(), entry_date="2031-03-01", currency="EUR", memo="Rent",
                 lines=lines)])  # fmt: skip
    assert [r["status"] for r in pushed.get_json()["results"]] == ["applied"], pushed.get_json()


def test_an_organizations_session_reads_and_deletes_only_its_own_balances_and_lines(world: World) -> None:
    _post_entry(world, world.a, 100)
    _post_entry(world, world.b, 777)
    with world.services.store.session(world.a.id) as session:
        assert set(session.execute(select(JournalLine.org_id)).scalars()) == {world.a.id}
        assert set(session.execute(select(JournalBalance.org_id)).scalars()) == {world.a.id}
        assert session.execute(select(func.sum(JournalBalance.debit))).scalar() == 100
    with world.services.store.session(world.a.id, write=True) as session:
        session.execute(delete(JournalBalance))
    with world.services.store.session(world.b.id) as session:
        left = session.execute(select(func.count()).select_from(JournalBalance)).scalar()
    assert left == 2  # B's two balance rows (rent and bank), untouched by A's session
