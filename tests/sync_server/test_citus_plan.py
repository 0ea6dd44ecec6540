"""The Citus plan (docs/citus/) checked against plain PostgreSQL and the real schema.

Citus is not installed here, so its two functions are stood in for by PL/pgSQL functions that
check, in the real catalogs of a migrated store, what Citus would refuse: a distribution column
missing from the primary key, a unique constraint or a foreign key between distributed tables; a
foreign key to a table not yet placed; colocation with a table not distributed. Everything else
in the file (the settings) runs as written.
"""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest

from common.schema.base import Base

PLAN = Path(__file__).resolve().parents[2] / "docs" / "citus" / "distribute.sql"
CLIENT_ONLY = {"outbox", "sync_state"}

STAND_INS = """
CREATE TEMP TABLE citus_placed (tbl regclass PRIMARY KEY, kind text NOT NULL, dist_col text);

CREATE FUNCTION pg_temp.unplaced_references(t regclass) RETURNS SETOF regclass LANGUAGE sql AS $$
  SELECT c.confrelid::regclass FROM pg_constraint c
  WHERE c.conrelid = t AND c.contype = 'f' AND c.confrelid <> t
    AND c.confrelid NOT IN (SELECT tbl FROM citus_placed)
$$;

CREATE FUNCTION create_reference_table(t regclass) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  IF EXISTS (SELECT 1 FROM pg_temp.unplaced_references(t)) THEN
    RAISE EXCEPTION '%: references a table not yet placed', t;
  END IF;
  IF EXISTS (SELECT 1 FROM pg_constraint c JOIN citus_placed p ON p.tbl = c.confrelid
             WHERE c.conrelid = t AND c.contype = 'f' AND p.kind = 'distributed') THEN
    RAISE EXCEPTION '%: a reference table cannot reference a distributed one', t;
  END IF;
  INSERT INTO citus_placed VALUES (t, 'reference', NULL);
END $$;

CREATE FUNCTION create_distributed_table(t regclass, col text, colocate_with text DEFAULT 'default')
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
  dist_attnum smallint;
  bad text;
BEGIN
  SELECT a.attnum INTO dist_attnum FROM pg_attribute a WHERE a.attrelid = t AND a.attname = col;
  IF dist_attnum IS NULL THEN
    RAISE EXCEPTION '%: no column %', t, col;
  END IF;
  SELECT string_agg(i.indexrelid::regclass::text, ', ') INTO bad FROM pg_index i
  WHERE i.indrelid = t AND (i.indisunique OR i.indisprimary) AND NOT dist_attnum = ANY (i.indkey);
  IF bad IS NOT NULL THEN
    RAISE EXCEPTION '%: unique index without %: %', t, col, bad;
  END IF;
  IF NOT EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = t AND i.indisprimary) THEN
    RAISE EXCEPTION '%: no primary key', t;
  END IF;
  IF EXISTS (SELECT 1 FROM pg_temp.unplaced_references(t)) THEN
    RAISE EXCEPTION '%: references a table not yet placed', t;
  END IF;
  SELECT string_agg(c.conname, ', ') INTO bad FROM pg_constraint c
  LEFT JOIN citus_placed p ON p.tbl = c.confrelid
  WHERE c.conrelid = t AND c.contype = 'f' AND (p.kind = 'distributed' OR c.confrelid = t)
    AND NOT EXISTS (
      SELECT 1 FROM unnest(c.conkey, c.confkey) AS k(mine, theirs)
      JOIN pg_attribute ra ON ra.attrelid = c.confrelid AND ra.attnum = k.theirs
      WHERE k.mine = dist_attnum
        AND ra.attname = COALESCE((SELECT dist_col FROM citus_placed WHERE tbl = c.confrelid), col)
    );
  IF bad IS NOT NULL THEN
    RAISE EXCEPTION '%: foreign keys between distributed tables without the distribution column: %', t, bad;
  END IF;
  IF colocate_with <> 'default' AND NOT EXISTS (
      SELECT 1 FROM citus_placed WHERE tbl = colocate_with::regclass AND kind = 'distributed') THEN
    RAISE EXCEPTION '%: colocated with %, which is not distributed', t, colocate_with;
  END IF;
  INSERT INTO citus_placed VALUES (t, 'distributed', col);
END $$;
"""


def _plan_without_the_extension() -> str:
    text = PLAN.read_text()
    assert "CREATE EXTENSION IF NOT EXISTS citus;" in text
    return text.replace("CREATE EXTENSION IF NOT EXISTS citus;", "")


@pytest.mark.postgres
def test_the_citus_plan_places_every_table_and_keeps_org_id_in_every_key(
    pg_clone: str,
) -> None:
    with psycopg.connect(pg_clone, autocommit=True) as conn:
        conn.execute(STAND_INS)  # type: ignore[arg-type]
        with conn.transaction():
            conn.execute(_plan_without_the_extension())  # type: ignore[arg-type]
        placed = dict(conn.execute("SELECT tbl::text, kind FROM citus_placed").fetchall())
    tables = {table.name for table in Base.metadata.sorted_tables}
    assert set(placed) == tables - CLIENT_ONLY
    tenant = {table.name for table in Base.metadata.sorted_tables if "org_id" in table.c}
    assert {name for name, kind in placed.items() if kind == "distributed"} == tenant


@pytest.mark.postgres
def test_the_stand_ins_refuse_what_citus_would(pg_database: str, tmp_path: Path) -> None:
    """The checks above can fail: a table whose unique key lacks the distribution column."""
    with psycopg.connect(pg_database, autocommit=True) as conn:
        conn.execute(STAND_INS)  # type: ignore[arg-type]
        conn.execute(
            "CREATE TABLE t (org_id text, id text, code text, PRIMARY KEY (org_id, id), UNIQUE (code))"
        )
        with pytest.raises(psycopg.errors.RaiseException, match="unique index without org_id"):
            conn.execute("SELECT create_distributed_table('t', 'org_id')")
        conn.execute("CREATE TABLE p (org_id text, id text, PRIMARY KEY (org_id, id))")
        conn.execute("CREATE TABLE c (org_id text, id text, p_id text, PRIMARY KEY (org_id, id), "
                     "FOREIGN KEY (p_id, id) REFERENCES p (org_id, id))")  # fmt: skip
        with pytest.raises(psycopg.errors.RaiseException, match="not yet placed"):
            conn.execute("SELECT create_distributed_table('c', 'org_id')")
        conn.execute("SELECT create_distributed_table('p', 'org_id')")
        with pytest.raises(psycopg.errors.RaiseException, match="without the distribution column"):
            conn.execute("SELECT create_distributed_table('c', 'org_id', colocate_with => 'p')")
