"""journal lines stored in their entry; balances per account and day kept by triggers

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-06 22:00:00

A posting wrote one ``journal_line`` row per line, into four B-trees (the table, its key, the
entry index, the balance index): on the embedded store their encrypted pages in every committed
slice, on PostgreSQL the Python that stamped, held, sent and audited 1,500 rows a push. Pushing
posted invoices kept ~0.67 of the throughput of the same invoices without books, against issue
12's 0.7 (docs/ledger-storage.md, bench/README.md "Stop 35" and "Stop 36").

- ``journal_entry.lines_json``: the entry's lines, a JSON array of
  ``[id, account_id, debit, credit, currency, memo]`` in line order. Existing lines are moved
  there (by ``line_no``; ids kept): a live entry's live ones, and a tombstone's all (they were
  tombstoned with it, and its ``deleted`` covers them; downgrade gives them back as its own).
- ``journal_balance``: per organization, account, currency and day, the sums of the live
  entries' lines and their count, kept only by triggers on ``journal_entry`` (INSERT adds a live
  entry's lines, DELETE subtracts them, an UPDATE of the lines, the date or ``deleted`` both;
  a row whose count falls to zero goes). Its reference to the account keeps a line from naming
  another organization's account. The statements read it.
- ``journal_line`` becomes a view with the table's columns (PostgreSQL:
  ``security_invoker``, so that the entries' row-level security applies to who reads it).
- Lines no longer sync on their own: their change-log rows go, and ``SCHEMA_VERSION`` 8 (an
  entry's row carries its lines; a client of version 7 would find no lines).

Downgrade rebuilds the table from the entries (lines get their entry's version, stamps and
``deleted``; their own were not kept) and revision 0015's and 0018's shape; it does not give
lines change-log rows back (a client downloads afresh when its schema version changes).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import common.schema.types

revision: str = "0019"
down_revision: str | None = "0018"
# The SCHEMA_VERSION of the sync handshake from this revision on (common/schema/__init__.py).
sync_schema_version = 8
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ORG = "current_setting('app.org_id', true)"
KEY = "org_id, account_id, currency, entry_date"

# -- SQLite --------------------------------------------------------------------------------------

# A line's fields in the entry's JSON array: l.value ->> n.
SQLITE_SUMS = """
    SELECT {entry}.org_id AS org_id, l.value ->> 1 AS account_id, l.value ->> 4 AS currency,
           {entry}.entry_date AS entry_date, sum(l.value ->> 2) AS debit, sum(l.value ->> 3) AS credit,
           count(*) AS lines
    FROM json_each({entry}.lines_json) AS l WHERE true GROUP BY 2, 3"""

SQLITE_ADD = f"""
    INSERT INTO journal_balance ({KEY}, debit, credit, lines){SQLITE_SUMS}
    ON CONFLICT ({KEY}) DO UPDATE SET debit = debit + excluded.debit,
        credit = credit + excluded.credit, lines = lines + excluded.lines;"""

SQLITE_SUBTRACT = f"""
    UPDATE journal_balance SET debit = journal_balance.debit - s.debit,
        credit = journal_balance.credit - s.credit, lines = journal_balance.lines - s.lines
    FROM ({SQLITE_SUMS}) AS s
    WHERE journal_balance.org_id = s.org_id AND journal_balance.account_id = s.account_id
      AND journal_balance.currency = s.currency AND journal_balance.entry_date = s.entry_date;
    DELETE FROM journal_balance WHERE org_id = OLD.org_id AND entry_date = OLD.entry_date AND lines <= 0
      AND account_id IN (SELECT l.value ->> 1 FROM json_each(OLD.lines_json) AS l);"""

SQLITE_TRIGGERS = {
    "journal_balance_insert": f"AFTER INSERT ON journal_entry WHEN NOT NEW.deleted BEGIN{SQLITE_ADD.format(entry='NEW')}\nEND",
    "journal_balance_delete": f"AFTER DELETE ON journal_entry WHEN NOT OLD.deleted BEGIN{SQLITE_SUBTRACT.format(entry='OLD')}\nEND",
    # An update subtracts what the old row counted, then adds what the new one counts.
    "journal_balance_update_old": (
        "AFTER UPDATE OF org_id, entry_date, lines_json, deleted ON journal_entry WHEN NOT OLD.deleted "
        f"BEGIN{SQLITE_SUBTRACT.format(entry='OLD')}\nEND"
    ),
    "journal_balance_update_new": (
        "AFTER UPDATE OF org_id, entry_date, lines_json, deleted ON journal_entry WHEN NOT NEW.deleted "
        f"BEGIN{SQLITE_ADD.format(entry='NEW')}\nEND"
    ),
}

SQLITE_VIEW = """
CREATE VIEW journal_line AS
SELECT e.org_id AS org_id, l.value ->> 0 AS id, e.id AS journal_entry_id, l.key + 1 AS line_no,
       l.value ->> 1 AS account_id, l.value ->> 2 AS debit, l.value ->> 3 AS credit,
       l.value ->> 4 AS currency, l.value ->> 5 AS memo, e.entry_date AS entry_date,
       e.version AS version, e.updated_at AS updated_at, e.updated_by AS updated_by, e.deleted AS deleted
FROM journal_entry AS e, json_each(e.lines_json) AS l
"""

# -- PostgreSQL ----------------------------------------------------------------------------------


def _pg_sums(rows: str, sign: str = "") -> str:
    return f"""
        SELECT r.org_id, l.value ->> 1, l.value ->> 4, r.entry_date,
               {sign}sum((l.value ->> 2)::bigint), {sign}sum((l.value ->> 3)::bigint), {sign}count(*)
        FROM {rows} AS r CROSS JOIN LATERAL jsonb_array_elements(r.lines_json::jsonb) AS l(value)
        WHERE NOT r.deleted GROUP BY 1, 2, 3, 4"""


def _pg_function(name: str, sums: str, path: str, *, subtracts: bool) -> str:
    """A statement trigger's function: the statement's rows netted per balance row, upserted in
    key order (two pushes of one organization lock its rows in the same order); where it
    subtracts, the rows it touched that hold no line any more deleted."""
    netted = f"""
        SELECT org_id, account_id, currency, entry_date, sum(debit), sum(credit), sum(lines)
        FROM ({sums}) AS s (org_id, account_id, currency, entry_date, debit, credit, lines)
        GROUP BY 1, 2, 3, 4"""
    emptied = (
        f"""
    DELETE FROM journal_balance AS b
    USING ({netted}) AS t (org_id, account_id, currency, entry_date, debit, credit, lines)
    WHERE b.org_id = t.org_id AND b.account_id = t.account_id AND b.currency = t.currency
      AND b.entry_date = t.entry_date AND b.lines <= 0;"""
        if subtracts
        else ""
    )
    return f"""
CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql
SECURITY INVOKER SET search_path = {path} AS $$
BEGIN
    INSERT INTO journal_balance AS b ({KEY}, debit, credit, lines){netted} ORDER BY 1, 2, 3, 4
    ON CONFLICT ({KEY}) DO UPDATE SET debit = b.debit + excluded.debit,
        credit = b.credit + excluded.credit, lines = b.lines + excluded.lines;{emptied}
    RETURN NULL;
END $$
"""


PG_VIEW = """
CREATE VIEW journal_line WITH (security_invoker = true) AS
SELECT e.org_id AS org_id, (l.value ->> 0)::varchar(36) AS id, e.id AS journal_entry_id,
       l.n::integer AS line_no, (l.value ->> 1)::varchar(36) AS account_id,
       (l.value ->> 2)::bigint AS debit, (l.value ->> 3)::bigint AS credit,
       (l.value ->> 4)::varchar(3) AS currency, (l.value ->> 5)::varchar(500) AS memo,
       e.entry_date AS entry_date, e.version AS version, e.updated_at AS updated_at,
       e.updated_by AS updated_by, e.deleted AS deleted
FROM journal_entry AS e CROSS JOIN LATERAL jsonb_array_elements(e.lines_json::jsonb) WITH ORDINALITY AS l(value, n)
"""


def _search_path(bind: sa.engine.Connection) -> str:
    schema = bind.exec_driver_sql("SELECT current_schema()").scalar_one()
    return f"pg_catalog, {bind.dialect.identifier_preparer.quote_identifier(schema)}, pg_temp"


# -- both ----------------------------------------------------------------------------------------


def _balance_table() -> None:
    op.create_table(
        "journal_balance",
        sa.Column("org_id", sa.String(length=36), nullable=False),
        sa.Column("account_id", sa.String(length=36), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("entry_date", sa.Date(), nullable=False),
        sa.Column("debit", sa.BigInteger(), nullable=False),
        sa.Column("credit", sa.BigInteger(), nullable=False),
        sa.Column("lines", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["org_id", "account_id"],
            ["account.org_id", "account.id"],
            name=op.f("fk_journal_balance_org_id_account_id_account"),
        ),
        sa.ForeignKeyConstraint(
            ["org_id"], ["organization.id"], name=op.f("fk_journal_balance_org_id_organization")
        ),
        sa.PrimaryKeyConstraint(
            "org_id", "account_id", "currency", "entry_date", name=op.f("pk_journal_balance")
        ),
        sqlite_with_rowid=False,
    )


def _has_table(bind: sa.engine.Connection, name: str) -> bool:
    return sa.inspect(bind).has_table(name)


def _lift_forced_row_security(bind: sa.engine.Connection, tables: tuple[str, ...]) -> list[str]:
    """Those of ``tables`` whose row-level security is FORCEd, lifted (PostgreSQL).

    The migration runs as the tables' owner, which need not be a superuser (production's is not)
    and has no ``app.org_id``: a FORCEd policy hides every row from it, so the statements that
    move every organization's lines would move none (and the table dropped after them would take
    the lines with it). As revision 0016 does, FORCE is lifted for them and put back by
    :func:`_force_row_security`, inside the migration's transaction, whose ACCESS EXCLUSIVE locks
    keep every other session out until it commits."""
    forced = list(
        bind.execute(
            sa.text(
                "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE n.nspname = current_schema() AND c.relkind = 'r' AND c.relforcerowsecurity "
                "AND c.relname IN :tables ORDER BY c.relname"
            ).bindparams(sa.bindparam("tables", expanding=True)),
            {"tables": list(tables)},
        ).scalars()
    )
    for table in forced:
        op.execute(f'ALTER TABLE "{table}" NO FORCE ROW LEVEL SECURITY')
    return forced


def _force_row_security(tables: list[str]) -> None:
    for table in tables:
        op.execute(f'ALTER TABLE "{table}" FORCE ROW LEVEL SECURITY')


def _refuse_before_15(bind: sa.engine.Connection) -> None:
    """A view without ``security_invoker`` (PostgreSQL 15) runs as its owner, who may bypass the
    entries' row-level security: every organization's lines would show through it."""
    version = int(bind.exec_driver_sql("SHOW server_version_num").scalar_one())
    if version < 150000:
        raise RuntimeError(
            f"revision 0019 needs PostgreSQL 15 or later (journal_line is a view with security_invoker); "
            f"this server is {version // 10000}"
        )


def upgrade() -> None:
    bind = op.get_bind()
    postgres = bind.dialect.name == "postgresql"
    forced: list[str] = []
    if postgres:
        _refuse_before_15(bind)
        forced = _lift_forced_row_security(bind, ("journal_entry", "journal_line", "change_log"))
    op.add_column("journal_entry", sa.Column("lines_json", sa.Text(), nullable=False, server_default="[]"))
    if postgres:
        op.execute(
            """
            UPDATE journal_entry AS e SET lines_json = l.lines
            FROM (SELECT l.org_id, l.journal_entry_id,
                         json_agg(json_build_array(l.id, l.account_id, l.debit, l.credit, l.currency, l.memo)
                                  ORDER BY l.line_no)::text AS lines
                  FROM journal_line AS l JOIN journal_entry AS p ON p.org_id = l.org_id AND p.id = l.journal_entry_id
                  WHERE NOT l.deleted OR p.deleted GROUP BY l.org_id, l.journal_entry_id) AS l
            WHERE e.org_id = l.org_id AND e.id = l.journal_entry_id
            """
        )
        # Revision 0015's checks read journal_line.
        for parent in ("journal_entry", "account"):
            for trigger in ("delete", "rekey", "truncate"):
                op.execute(f"DROP TRIGGER {parent}_lines_{trigger} ON {parent}")
            op.execute(f"DROP FUNCTION ops_{parent}_check_lines()")
        op.execute("DROP FUNCTION ops_refuse_truncate_of_line_parents()")
    else:
        op.execute(
            """
            UPDATE journal_entry SET lines_json = (
                SELECT json_group_array(json_array(l.id, l.account_id, l.debit, l.credit, l.currency, l.memo)
                                        ORDER BY l.line_no)
                FROM journal_line AS l
                WHERE l.org_id = journal_entry.org_id AND l.journal_entry_id = journal_entry.id
                  AND (NOT l.deleted OR journal_entry.deleted))
            WHERE EXISTS (SELECT 1 FROM journal_line AS l
                          WHERE l.org_id = journal_entry.org_id AND l.journal_entry_id = journal_entry.id)
            """
        )
        op.execute("UPDATE journal_entry SET lines_json = '[]' WHERE lines_json IS NULL")
    op.drop_table("journal_line")  # and revision 0015's triggers on it
    if postgres:
        op.execute("DROP FUNCTION ops_journal_line_check_refs()")
    if _has_table(bind, "change_log"):
        op.execute("DELETE FROM change_log WHERE entity = 'journal_line'")
    _balance_table()
    if postgres:
        path = _search_path(bind)
        op.execute("ALTER TABLE journal_balance SET (fillfactor = 70)")
        op.execute(
            f"INSERT INTO journal_balance ({KEY}, debit, credit, lines) "
            f"SELECT * FROM ({_pg_sums('journal_entry')}) AS s ORDER BY 1, 2, 3, 4"
        )
        op.execute(_pg_function("ops_journal_balance_add", _pg_sums("new_rows"), path, subtracts=False))
        op.execute(
            _pg_function("ops_journal_balance_subtract", _pg_sums("old_rows", "-"), path, subtracts=True)
        )
        op.execute(
            _pg_function(
                "ops_journal_balance_replace",
                f"{_pg_sums('new_rows')} UNION ALL {_pg_sums('old_rows', '-')}",
                path,
                subtracts=True,
            )
        )
        op.execute(
            "CREATE TRIGGER journal_balance_insert AFTER INSERT ON journal_entry REFERENCING NEW TABLE AS "
            "new_rows FOR EACH STATEMENT EXECUTE FUNCTION ops_journal_balance_add()"
        )
        op.execute(
            "CREATE TRIGGER journal_balance_delete AFTER DELETE ON journal_entry REFERENCING OLD TABLE AS "
            "old_rows FOR EACH STATEMENT EXECUTE FUNCTION ops_journal_balance_subtract()"
        )
        op.execute(
            "CREATE TRIGGER journal_balance_update AFTER UPDATE ON journal_entry REFERENCING OLD TABLE AS "
            "old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION ops_journal_balance_replace()"
        )
        # TRUNCATE skips the row triggers: the balances would outlive the entries.
        op.execute(
            f"""
            CREATE FUNCTION ops_refuse_truncate_of_journal_entry() RETURNS trigger LANGUAGE plpgsql
            SECURITY INVOKER SET search_path = {path} AS $$
            BEGIN
                RAISE feature_not_supported USING
                    MESSAGE = 'cannot truncate table "journal_entry": journal_balance is kept from it';
            END $$
            """
        )
        op.execute(
            "CREATE TRIGGER journal_entry_truncate BEFORE TRUNCATE ON journal_entry "
            "FOR EACH STATEMENT EXECUTE FUNCTION ops_refuse_truncate_of_journal_entry()"
        )
        op.execute("ALTER TABLE journal_balance ENABLE ROW LEVEL SECURITY")
        op.execute("ALTER TABLE journal_balance FORCE ROW LEVEL SECURITY")
        op.execute(
            f"CREATE POLICY tenant_isolation ON journal_balance USING (org_id = {ORG}) WITH CHECK (org_id = {ORG})"
        )
        _copy_grants(bind, "account", "journal_balance")
        op.execute(PG_VIEW)
        _copy_grants(bind, "journal_entry", "journal_line", select_only=True)
        _force_row_security([table for table in forced if table != "journal_line"])
    else:
        op.execute(
            f"INSERT INTO journal_balance ({KEY}, debit, credit, lines) "
            f"SELECT e.org_id, l.value ->> 1, l.value ->> 4, e.entry_date, sum(l.value ->> 2), "
            f"sum(l.value ->> 3), count(*) FROM journal_entry AS e, json_each(e.lines_json) AS l "
            f"WHERE NOT e.deleted GROUP BY 1, 2, 3, 4"
        )
        for name, body in SQLITE_TRIGGERS.items():
            op.execute(f"CREATE TRIGGER {name} {body}")
        op.execute(SQLITE_VIEW)


def _copy_grants(bind: sa.engine.Connection, source: str, target: str, select_only: bool = False) -> None:
    """Give ``target`` the grants other roles hold on ``source`` (the application role's)."""
    grants = bind.execute(
        sa.text(
            "SELECT grantee, privilege_type FROM information_schema.role_table_grants "
            "WHERE table_schema = current_schema() AND table_name = :t AND grantee <> current_user"
        ),
        {"t": source},
    ).all()
    quote = bind.dialect.identifier_preparer.quote_identifier
    for grantee, privilege in grants:
        if privilege in ("SELECT", "INSERT", "UPDATE", "DELETE") and (
            privilege == "SELECT" or not select_only
        ):
            op.execute(f"GRANT {privilege} ON {target} TO {quote(grantee)}")


def downgrade() -> None:
    bind = op.get_bind()
    postgres = bind.dialect.name == "postgresql"
    forced = _lift_forced_row_security(bind, ("journal_entry",)) if postgres else []
    op.execute("DROP VIEW journal_line")
    if postgres:
        op.execute("DROP TRIGGER journal_entry_truncate ON journal_entry")
        op.execute("DROP FUNCTION ops_refuse_truncate_of_journal_entry()")
        for trigger in ("insert", "delete", "update"):
            op.execute(f"DROP TRIGGER journal_balance_{trigger} ON journal_entry")
        for function in ("add", "subtract", "replace"):
            op.execute(f"DROP FUNCTION ops_journal_balance_{function}()")
    else:
        for name in SQLITE_TRIGGERS:
            op.execute(f"DROP TRIGGER {name}")
    op.drop_table("journal_balance")
    op.create_table(
        "journal_line",
        sa.Column("journal_entry_id", sa.String(length=36), nullable=False),
        sa.Column("line_no", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.String(length=36), nullable=False),
        sa.Column("debit", sa.BigInteger(), nullable=False),
        sa.Column("credit", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("memo", sa.String(length=500), nullable=True),
        sa.Column("entry_date", sa.Date(), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", common.schema.types.UTCDateTime(length=40), nullable=False),
        sa.Column("updated_by", sa.String(length=36), nullable=True),
        sa.Column("deleted", sa.Boolean(), nullable=False),
        sa.Column("org_id", sa.String(length=36), nullable=False),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.ForeignKeyConstraint(
            ["org_id", "account_id"],
            ["account.org_id", "account.id"],
            name=op.f("fk_journal_line_org_id_account_id_account"),
        ),
        sa.ForeignKeyConstraint(
            ["org_id", "journal_entry_id"],
            ["journal_entry.org_id", "journal_entry.id"],
            name=op.f("fk_journal_line_org_id_journal_entry_id_journal_entry"),
        ),
        sa.PrimaryKeyConstraint("org_id", "id", name=op.f("pk_journal_line")),
    )
    op.create_index("ix_journal_line_entry", "journal_line", ["org_id", "journal_entry_id"])
    op.create_index(
        "ix_journal_line_balance",
        "journal_line",
        ["org_id", "account_id", "currency", "entry_date", "version", "deleted", "debit", "credit"],
    )
    if postgres:
        op.execute(
            """
            INSERT INTO journal_line (org_id, id, journal_entry_id, line_no, account_id, debit, credit,
                                      currency, memo, entry_date, version, updated_at, updated_by, deleted)
            SELECT e.org_id, l.value ->> 0, e.id, l.n, l.value ->> 1, (l.value ->> 2)::bigint,
                   (l.value ->> 3)::bigint, l.value ->> 4, l.value ->> 5, e.entry_date, e.version,
                   e.updated_at, e.updated_by, e.deleted
            FROM journal_entry AS e
            CROSS JOIN LATERAL jsonb_array_elements(e.lines_json::jsonb) WITH ORDINALITY AS l(value, n)
            """
        )
    else:
        op.execute(
            """
            INSERT INTO journal_line (org_id, id, journal_entry_id, line_no, account_id, debit, credit,
                                      currency, memo, entry_date, version, updated_at, updated_by, deleted)
            SELECT e.org_id, l.value ->> 0, e.id, l.key + 1, l.value ->> 1, l.value ->> 2, l.value ->> 3,
                   l.value ->> 4, l.value ->> 5, e.entry_date, e.version, e.updated_at, e.updated_by, e.deleted
            FROM journal_entry AS e, json_each(e.lines_json) AS l
            """
        )
    op.drop_column("journal_entry", "lines_json")
    if postgres:
        # Revision 0015's shape: its checks, and the tenant policy and grants of the table.
        from importlib import import_module

        checks = import_module("common.migrations.versions.0015_journal_line_set_checks")
        checks.set_checks(_search_path(bind))
        op.execute("ALTER TABLE journal_line ENABLE ROW LEVEL SECURITY")
        op.execute("ALTER TABLE journal_line FORCE ROW LEVEL SECURITY")
        op.execute(
            f"CREATE POLICY tenant_isolation ON journal_line USING (org_id = {ORG}) WITH CHECK (org_id = {ORG})"
        )
        _copy_grants(bind, "journal_entry", "journal_line")
        _force_row_security(forced)
