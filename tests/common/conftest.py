"""Fixtures for domain tests: every command applied on both sides, a real encrypted client copy
and a real server store (``tests/common/sides.py``); no desktop package."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from common.commands import CommandError, CommandOutcome
from common.ids import new_id
from common.permissions import ALL_PERMISSIONS
from tests.common.business import Business, balances_disagreeing
from tests.common.sides import SIDES, CommandSide, open_side, server_template


@dataclass
class Workspace:
    """One organization's store (a client's copy or the server's) and an actor who applies
    commands to it."""

    store: CommandSide
    actor_id: str
    permissions: frozenset[str] = ALL_PERMISSIONS

    @property
    def org_id(self) -> str:
        return self.store.org_id

    @property
    def device_id(self) -> str:
        return self.store.device_id

    def apply(
        self, name: str, args: dict[str, Any], *, permissions: frozenset[str] | None = None
    ) -> CommandOutcome:
        _, outcome = self.store.apply(
            name,
            args,
            actor_id=self.actor_id,
            permissions=self.permissions if permissions is None else permissions,
        )
        return outcome

    def refused(
        self, name: str, args: dict[str, Any], *, permissions: frozenset[str] | None = None
    ) -> CommandError:
        """Apply a command that must be refused; returns the error."""
        with pytest.raises(CommandError) as info:
            self.apply(name, args, permissions=permissions)
        return info.value


@pytest.fixture(scope="session")
def server_store_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return server_template(tmp_path_factory.mktemp("server-template") / "store")


@pytest.fixture(scope="module", params=SIDES)
def workspace(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, server_store_template: Path
) -> Iterator[Workspace]:
    """A fresh store per test module and side: a client's encrypted copy, then the server's."""
    root: Path = tmp_path_factory.mktemp(request.param)
    store = open_side(request.param, root / "store", server_store_template)
    try:
        workspace = Workspace(store=store, actor_id=new_id())
        # As the server does for every new organization: the default chart and posting settings.
        workspace.apply("finance.set_up_books", {"currency": "EUR"})
        yield workspace
        # Whatever the module's tests posted, the balances the statements read are the lines'.
        assert balances_disagreeing(store) == []
    finally:
        store.close()


@pytest.fixture
def business(workspace: Workspace) -> Business:
    """Business command tests: the module's store, applied as a chosen person and role, with seeds."""
    return Business(workspace.store, workspace.actor_id)


@pytest.fixture(params=SIDES)
def books(request: pytest.FixtureRequest, tmp_path: Path, server_store_template: Path) -> Iterator[Business]:
    """A new organization's encrypted store with the default chart, as the server makes it: a
    client's copy, then the server's store."""
    store = open_side(request.param, tmp_path / "store", server_store_template)
    try:
        yield Business(store, new_id()).set_up_books()
        # Whatever the test posted, the balances the statements read are the lines'.
        assert balances_disagreeing(store) == []
    finally:
        store.close()
