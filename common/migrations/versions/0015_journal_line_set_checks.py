"""journal line references checked once a statement on PostgreSQL

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-06 04:00:00

PostgreSQL checks a foreign key with a trigger and a query a row: the INSERT of a push's 1,500
journal lines ran 3,000 of them (~15 of its ~30 ms). Its two references,
``(org_id, journal_entry_id) → journal_entry`` and ``(org_id, account_id) → account``, are
checked here instead once a statement, over the statement's rows (transition tables), with the
same guarantees as the constraints' ``NO ACTION`` (``common.schema.base.TenantRow.__pg_set_refs__``):

- a line written (INSERT or UPDATE) whose entry or account does not exist in its organization is
  refused with SQLSTATE 23503 (``foreign_key_violation``, the error the constraint raised, named
  after it, so the server answers it as before); its parents are locked ``FOR KEY SHARE``, as
  the constraints' queries lock them, so that a concurrent transaction cannot delete or re-key
  one before this one commits;
- deleting an entry or an account that a line still references, or changing its key, is refused
  with the same error, checked at the end of the statement (a deleted key that another row of
  the statement gives back is no longer missing); TRUNCATE of either is refused while
  journal_line holds a row (a foreign key refuses it).

The functions run as the caller (SECURITY INVOKER: they give no one a right), with a fixed
``search_path`` (the catalog, the tables' schema, temporary tables last, so that a caller's
temporary ``account`` never stands in for the table): under the application role row-level
security shows them exactly the caller's organization, and every row they must see is of it (a
line's organization is its parents'; the row policy refuses a line of another one); the
organization is part of every key they look up. The TRUNCATE guard reads journal_line with ``row_security = off``: a role that
does not bypass row-level security gets an error, never a table that merely looks empty.

SQLite keeps the foreign keys (one B-tree probe a row, no query planned). Neither changes a row
or what syncs: ``SCHEMA_VERSION`` unchanged. Downgrade drops the triggers and recreates the
constraints (validated against the rows then stored).
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ENTRY_FK = "fk_journal_line_org_id_journal_entry_id_journal_entry"
ACCOUNT_FK = "fk_journal_line_org_id_account_id_account"
# (parent table, journal_line's column, constraint name)
REFERENCES = (("journal_entry", "journal_entry_id", ENTRY_FK), ("account", "account_id", ACCOUNT_FK))


def _lines_check(path: str) -> str:
    """The statement-level check of the lines a statement wrote (``new_lines``)."""
    probes = "\n".join(
        f"""
    IF missing IS NULL THEN
        SELECT '{name}' INTO missing
        FROM (SELECT DISTINCT org_id, {column} FROM new_lines) AS n
        WHERE NOT EXISTS (
            SELECT FROM {parent} AS p WHERE p.org_id = n.org_id AND p.id = n.{column} FOR KEY SHARE
        )
        LIMIT 1;
    END IF;"""
        for parent, column, name in REFERENCES
    )
    return f"""
CREATE FUNCTION ops_journal_line_check_refs() RETURNS trigger LANGUAGE plpgsql
SECURITY INVOKER SET search_path = {path} AS $$
DECLARE
    missing text;
BEGIN{probes}
    IF missing IS NOT NULL THEN
        RAISE foreign_key_violation USING
            MESSAGE = format('insert or update on table "journal_line" violates foreign key constraint "%s"', missing),
            DETAIL = 'Key is not present in the referenced table.',
            CONSTRAINT = missing, TABLE = 'journal_line', SCHEMA = TG_TABLE_SCHEMA;
    END IF;
    RETURN NULL;
END $$
"""


def _parent_check(parent: str, column: str, name: str, path: str) -> str:
    """The check that no line references a key of ``parent`` that a statement deleted (or a
    row whose key it changed: ``old_rows``), unless a row of ``parent`` holds that key again."""
    return f"""
CREATE FUNCTION ops_{parent}_check_lines() RETURNS trigger LANGUAGE plpgsql
SECURITY INVOKER SET search_path = {path} AS $$
BEGIN
    IF TG_LEVEL = 'ROW' THEN
        PERFORM FROM journal_line AS l
        WHERE l.org_id = OLD.org_id AND l.{column} = OLD.id
          AND NOT EXISTS (SELECT FROM {parent} AS p WHERE p.org_id = OLD.org_id AND p.id = OLD.id)
        LIMIT 1;
    ELSE
        PERFORM FROM old_rows AS o
        WHERE EXISTS (SELECT FROM journal_line AS l WHERE l.org_id = o.org_id AND l.{column} = o.id)
          AND NOT EXISTS (SELECT FROM {parent} AS p WHERE p.org_id = o.org_id AND p.id = o.id)
        LIMIT 1;
    END IF;
    IF FOUND THEN
        RAISE foreign_key_violation USING
            MESSAGE = 'update or delete on table "{parent}" violates foreign key constraint '
                      '"{name}" on table "journal_line"',
            DETAIL = 'Key is still referenced from table "journal_line".',
            CONSTRAINT = '{name}', TABLE = '{parent}', SCHEMA = TG_TABLE_SCHEMA;
    END IF;
    RETURN NULL;
END $$
"""


TRUNCATE_GUARD = """
CREATE FUNCTION ops_refuse_truncate_of_line_parents() RETURNS trigger LANGUAGE plpgsql
SECURITY INVOKER SET search_path = {path} SET row_security = off AS $$
BEGIN
    IF EXISTS (SELECT FROM journal_line) THEN
        RAISE feature_not_supported USING
            MESSAGE = format('cannot truncate table "%s": journal_line references it', TG_TABLE_NAME);
    END IF;
    RETURN NULL;
END $$
"""


def _search_path() -> str:
    """The functions' fixed search_path: the catalog, the schema the tables are in, and the
    session's temporary tables last (a temporary table of a caller never stands in for one)."""
    bind = op.get_bind()
    schema = bind.exec_driver_sql("SELECT current_schema()").scalar_one()
    return f"pg_catalog, {bind.dialect.identifier_preparer.quote_identifier(schema)}, pg_temp"


def set_checks(path: str) -> None:
    """The constraints replaced by the statement checks, their functions (``search_path``
    ``path``) and triggers: this revision's upgrade, and revision 0019's downgrade, which gives
    back the table it had."""
    for _parent, _column, name in REFERENCES:
        op.drop_constraint(name, "journal_line", type_="foreignkey")
    op.execute(_lines_check(path))
    # A trigger with transition tables has one event; UPDATE checks every row it wrote.
    for event in ("INSERT", "UPDATE"):
        op.execute(
            f"CREATE TRIGGER journal_line_refs_{event.lower()} AFTER {event} ON journal_line "
            "REFERENCING NEW TABLE AS new_lines FOR EACH STATEMENT "
            "EXECUTE FUNCTION ops_journal_line_check_refs()"
        )
    op.execute(TRUNCATE_GUARD.format(path=path))
    for parent, column, name in REFERENCES:
        op.execute(_parent_check(parent, column, name, path))
        op.execute(
            f"CREATE TRIGGER {parent}_lines_delete AFTER DELETE ON {parent} "
            f"REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION ops_{parent}_check_lines()"
        )
        # A key never changes in practice: a row trigger whose condition is false for every other
        # update queues nothing (a transition table would hold every updated row).
        op.execute(
            f"CREATE TRIGGER {parent}_lines_rekey AFTER UPDATE OF org_id, id ON {parent} FOR EACH ROW "
            "WHEN (OLD.org_id IS DISTINCT FROM NEW.org_id OR OLD.id IS DISTINCT FROM NEW.id) "
            f"EXECUTE FUNCTION ops_{parent}_check_lines()"
        )
        op.execute(
            f"CREATE TRIGGER {parent}_lines_truncate BEFORE TRUNCATE ON {parent} "
            "FOR EACH STATEMENT EXECUTE FUNCTION ops_refuse_truncate_of_line_parents()"
        )


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return  # SQLite keeps its foreign keys
    set_checks(_search_path())


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for parent, _column, _name in REFERENCES:
        for trigger in ("delete", "rekey", "truncate"):
            op.execute(f"DROP TRIGGER {parent}_lines_{trigger} ON {parent}")
        op.execute(f"DROP FUNCTION ops_{parent}_check_lines()")
    op.execute("DROP FUNCTION ops_refuse_truncate_of_line_parents()")
    for event in ("insert", "update"):
        op.execute(f"DROP TRIGGER journal_line_refs_{event} ON journal_line")
    op.execute("DROP FUNCTION ops_journal_line_check_refs()")
    for parent, column, name in REFERENCES:
        op.create_foreign_key(name, "journal_line", parent, ["org_id", column], ["org_id", "id"])
