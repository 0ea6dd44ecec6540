"""Fixtures for domain tests: commands applied through a real encrypted client store."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from common.commands import CommandError, CommandOutcome
from common.ids import new_id
from common.permissions import ALL_PERMISSIONS
from desktop.local_store import LocalStore
from desktop.profiles import Profile
from tests.common.business import Business


@dataclass
class Workspace:
    """One organization's real SQLCipher store and an actor who applies commands to it."""

    store: LocalStore
    actor_id: str
    permissions: frozenset[str] = ALL_PERMISSIONS

    @property
    def org_id(self) -> str:
        return self.store.profile.org_id

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


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Workspace]:
    """A fresh encrypted store per test module (Argon2 makes creating one cost ~0.3 s)."""
    root: Path = tmp_path_factory.mktemp("store")
    store = LocalStore.create(
        root, Profile("https://ops.example.test", "tester@example.test", new_id()), "pw"
    )
    try:
        workspace = Workspace(store=store, actor_id=new_id())
        # As the server does for every new organization: the default chart and posting settings.
        workspace.apply("finance.set_up_books", {"currency": "EUR"})
        yield workspace
    finally:
        store.close()


@pytest.fixture
def business(workspace: Workspace) -> Business:
    """Business command tests: the module's store, applied as a chosen person and role, with seeds."""
    return Business(workspace.store, workspace.actor_id)
