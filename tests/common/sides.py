"""The two sides a command runs on, for the domain tests: a client's copy and the server's store.

A client's copy (:class:`ClientCopy`) is a real SQLCipher file migrated like the desktop's, and a
command is applied there by :func:`common.local.apply_and_queue` — undo images, ``DRAFT-``
numbers and an outbox entry — as the desktop applies it offline. The server's store
(:class:`ServerCopy`) is a real encrypted server store, and a command is applied there by
``sync_server.writes.apply_mutations`` — versions, change log, numbering, audit — exactly as a push
applies it. The domain tests run on both (the ``workspace`` fixture is parametrized), without the
desktop package: the command layer must decide the same on each side.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from common import migrate
from common.commands import CommandError, CommandOutcome
from common.db import create_sqlite_engine, new_key
from common.ids import is_uuid, new_id
from common.local import apply_and_queue
from common.schema import AppUser, Membership, OutboxEntry
from common.wire import Mutation
from sync_server import admin_ops
from sync_server.config import ServerConfig
from sync_server.store import Store, prepare_store
from sync_server.writes import apply_mutations

SIDES = ("client", "server")


class CommandSide(Protocol):
    """What a domain test needs of a store: apply commands, read rows, see the outbox."""

    side: str
    org_id: str
    device_id: str

    def apply(
        self,
        name: str,
        args: dict[str, Any],
        *,
        actor_id: str,
        permissions: frozenset[str],
        command_id: str | None = None,
    ) -> tuple[str, CommandOutcome]: ...

    def read_session(self) -> Any: ...

    def write_session(self) -> Any: ...

    def outbox(self) -> list[dict[str, Any]]: ...

    def close(self) -> None: ...


class ClientCopy:
    """One organization's encrypted client copy, with commands applied as the desktop does."""

    side = "client"

    def __init__(self, directory: Path, org_id: str | None = None) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.org_id = org_id or new_id()
        self.device_id = new_id()
        # As the desktop opens its copy: encrypted, no foreign keys (it holds what the server sends).
        self.engine = create_sqlite_engine(
            directory / "client.db", new_key(), foreign_keys=False, pool_size=2
        )
        migrate.upgrade(self.engine)

    @contextmanager
    def write_session(self) -> Iterator[Session]:
        with Session(self.engine.execution_options(sqlite_begin="IMMEDIATE")) as session, session.begin():
            yield session

    @contextmanager
    def read_session(self) -> Iterator[Session]:
        with Session(self.engine) as session:
            yield session

    def apply(
        self,
        name: str,
        args: dict[str, Any],
        *,
        actor_id: str,
        permissions: frozenset[str],
        command_id: str | None = None,
    ) -> tuple[str, CommandOutcome]:
        with self.write_session() as session:
            return apply_and_queue(
                session,
                name,
                args,
                org_id=self.org_id,
                device_id=self.device_id,
                actor_id=actor_id,
                permissions=permissions,
                command_id=command_id,
            )

    def outbox(self) -> list[dict[str, Any]]:
        with self.read_session() as session:
            stmt = select(*OutboxEntry.__table__.columns).order_by(OutboxEntry.seq)
            return [dict(row) for row in session.execute(stmt).mappings()]

    def close(self) -> None:
        self.engine.dispose()


def open_side(side: str, directory: Path, template: Path, org_id: str | None = None) -> CommandSide:
    """A fresh store of ``side`` ("client" or "server") for one organization."""
    if side == "client":
        return ClientCopy(directory, org_id)
    return ServerCopy(directory, template, org_id)


def other_side(side: str) -> str:
    return "server" if side == "client" else "client"


def server_template(directory: Path) -> Path:
    """A migrated server store, to copy for each test module (migrating one costs seconds)."""
    prepare_store(ServerConfig(data_dir=directory)).dispose()
    return directory


class ServerCopy:
    """One organization in a real server store, with commands applied as a push applies them."""

    side = "server"

    def __init__(self, directory: Path, template: Path, org_id: str | None = None) -> None:
        shutil.copytree(template, directory)
        self.store: Store = Store.open(ServerConfig(data_dir=directory))
        self.org_id = admin_ops.create_org(self.store, f"Org {new_id()[-12:]}", org_id=org_id, books=False)
        self.device_id = new_id()
        self._users: set[str] = set()

    def _member(self, user_id: str) -> None:
        """Every person a test names (the actor, an employee's ``user_id``) is a member of the
        organization, as on a real server; a client's copy cannot check membership."""
        if user_id in self._users or not is_uuid(user_id):
            return
        with self.store.admin_session() as session:
            if session.execute(select(AppUser.id).where(AppUser.id == user_id)).first() is None:
                session.execute(
                    insert(AppUser).values(
                        id=user_id, email=f"{user_id}@example.test", name="Tester", password_hash="-"
                    )
                )
        with self.store.session(self.org_id, write=True) as session:
            session.execute(
                insert(Membership).values(org_id=self.org_id, id=new_id(), user_id=user_id, roles=[])
            )
        self._users.add(user_id)

    def _people(self, actor_id: str, args: Any) -> list[str]:
        found = [actor_id]
        for where in (args, args.get("changes") if isinstance(args, dict) else None):
            if isinstance(where, dict) and isinstance(where.get("user_id"), str):
                found.append(where["user_id"])
        return found

    @contextmanager
    def write_session(self) -> Iterator[Session]:
        with self.store.session(self.org_id, write=True) as session:
            yield session

    @contextmanager
    def read_session(self) -> Iterator[Session]:
        with self.store.session(self.org_id) as session:
            yield session

    def apply(
        self,
        name: str,
        args: dict[str, Any],
        *,
        actor_id: str,
        permissions: frozenset[str],
        command_id: str | None = None,
    ) -> tuple[str, CommandOutcome]:
        for person in self._people(actor_id, args):
            self._member(person)
        # As pushed: the arguments travel as JSON (exact decimals as text).
        wire_args = json.loads(json.dumps(args, default=str))
        # (built unchecked: what the wire would refuse must reach the command layer, which refuses it too)
        mutation = Mutation.model_construct(id=command_id or new_id(), name=name, args=wire_args)
        with self.store.session(self.org_id, user_id=actor_id, write=True) as session:
            [result] = apply_mutations(
                session, self.org_id, actor_id, self.device_id, permissions, [mutation]
            )
        details = dict(result.details or {})
        if result.status != "applied":
            raise CommandError(
                result.code or "rejected",
                result.message or "refused by the server",
                field=details.get("field"),
                server_values=result.server_values,
                details=details,
            )
        return mutation.id, CommandOutcome(warnings=details.get("warnings", []), data=details.get("data", {}))

    def outbox(self) -> list[dict[str, Any]]:
        return []  # the server applies at once: nothing waits to be sent

    def close(self) -> None:
        self.store.dispose()
