"""Signing in online and offline, organization choice, password changed on the server, remember
me, sign-out: the sign-in logic against a real server and real encrypted stores."""

from __future__ import annotations

from pathlib import Path

import pytest
import requests

from common.ids import new_id
from desktop import keychain
from desktop.api_client import ApiClient, SessionEndedError
from desktop.local_store import LocalStore
from desktop.profiles import known_organizations
from desktop.session import UserSession, may_have_unsynced
from desktop.signin import (
    ChooseOrganization,
    Credentials,
    PreviousPasswordNeeded,
    SignIn,
    SignInError,
    open_remembered,
    sign_out,
)
from tests.desktop.conftest import LiveServer, MemoryKeyring


def sign_in(
    root: Path, server: LiveServer, email: str, password: str | None = None, **extra: object
) -> object:
    creds = Credentials(server.url, email, server.password if password is None else password, **extra)  # type: ignore[arg-type]
    return SignIn(root, creds).start()


def signed_in(result: object) -> UserSession:
    assert isinstance(result, UserSession), result
    return result


def change_password_on_server(server: LiveServer, email: str, new: str) -> None:
    api = ApiClient(server.url)
    api.login(email, server.password)
    api.request("POST", "/auth/password", json={"current_password": server.password, "new_password": new})
    server.password = new


def test_first_sign_in_is_online_and_creates_the_encrypted_store(
    live_server: LiveServer, data_root: Path
) -> None:
    session = signed_in(sign_in(data_root, live_server, "warehouse@acme.test"))
    try:
        assert session.online
        assert session.org_name == "Acme Trading"
        assert "inventory.write" in session.permissions and "hr.read" not in session.permissions
        assert session.profile.db_path(data_root).is_file()
        assert b"SQLite format 3" not in session.profile.db_path(data_root).read_bytes()[:16]  # encrypted
        # the refresh token is kept (encrypted) so an offline session can reconnect later
        assert session.store.get_state("session.refresh_token") == session.api.refresh_token
    finally:
        session.close()


def test_later_sign_in_works_offline_with_the_permissions_of_the_last_online_one(
    live_server: LiveServer, data_root: Path
) -> None:
    signed_in(sign_in(data_root, live_server, "warehouse@acme.test")).close()
    live_server.stop()
    session = signed_in(sign_in(data_root, live_server, "warehouse@acme.test"))
    try:
        assert not session.online
        assert "inventory.write" in session.permissions
        assert any("offline" in n.lower() for n in session.notices)
    finally:
        session.close()
    with pytest.raises(SignInError) as wrong:
        sign_in(data_root, live_server, "warehouse@acme.test", password="not it")
    assert wrong.value.field == "password"


def test_offline_without_local_data_says_the_first_sign_in_needs_the_server(
    live_server: LiveServer, data_root: Path
) -> None:
    live_server.stop()
    with pytest.raises(SignInError, match="first sign-in on this computer needs the server"):
        sign_in(data_root, live_server, "admin@acme.test")


def test_wrong_password_online_is_refused_and_names_the_password(
    live_server: LiveServer, data_root: Path
) -> None:
    with pytest.raises(SignInError) as refused:
        sign_in(data_root, live_server, "admin@acme.test", password="guess")
    assert refused.value.field == "password"
    assert not (data_root / "profiles").exists()


def test_a_user_of_several_organizations_chooses_one(live_server: LiveServer, data_root: Path) -> None:
    attempt = SignIn(data_root, Credentials(live_server.url, "multi@acme.test", live_server.password))
    choice = attempt.start()
    assert isinstance(choice, ChooseOrganization) and not choice.offline
    assert {m.org_name for m in choice.options} == {"Acme Trading", "Globex Manufacturing"}
    globex = next(m for m in choice.options if m.org_name == "Globex Manufacturing")
    session = signed_in(attempt.choose(globex.org_id))
    try:
        assert session.org_name == "Globex Manufacturing" and "admin.users" in session.permissions
        assert len(session.memberships) == 2
    finally:
        session.close()
    acme = next(m for m in choice.options if m.org_name == "Acme Trading")
    session = signed_in(sign_in(data_root, live_server, "multi@acme.test", org_id=acme.org_id))
    session.close()
    orgs = known_organizations(data_root, live_server.url, "multi@acme.test")
    assert {o["org_name"] for o in orgs} == {"Acme Trading", "Globex Manufacturing"}
    live_server.stop()
    offline = SignIn(data_root, Credentials(live_server.url, "multi@acme.test", live_server.password)).start()
    assert isinstance(offline, ChooseOrganization) and offline.offline


def test_password_changed_on_the_server_asks_for_the_previous_one_and_rewraps(
    live_server: LiveServer, data_root: Path
) -> None:
    old = live_server.password
    signed_in(sign_in(data_root, live_server, "admin@acme.test")).close()
    change_password_on_server(live_server, "admin@acme.test", "a brand new passphrase")
    attempt = SignIn(data_root, Credentials(live_server.url, "admin@acme.test", live_server.password))
    question = attempt.start()
    assert isinstance(question, PreviousPasswordNeeded)
    assert question.can_start_fresh  # nothing unsynced on this computer
    with pytest.raises(SignInError) as wrong:
        attempt.with_previous_password("not the old one")
    assert wrong.value.field == "previous_password"
    signed_in(attempt.with_previous_password(old)).close()
    live_server.stop()  # from now on the new password also opens the data offline
    signed_in(sign_in(data_root, live_server, "admin@acme.test")).close()


def test_start_fresh_is_refused_while_unsynced_changes_exist(
    live_server: LiveServer, data_root: Path
) -> None:
    session = signed_in(sign_in(data_root, live_server, "admin@acme.test"))
    session.apply("inventory.create_warehouse", {"id": new_id(), "code": "W1", "name": "One"})
    profile = session.profile
    session.close()
    assert may_have_unsynced(data_root, profile)
    change_password_on_server(live_server, "admin@acme.test", "a brand new passphrase")
    attempt = SignIn(data_root, Credentials(live_server.url, "admin@acme.test", live_server.password))
    question = attempt.start()
    assert isinstance(question, PreviousPasswordNeeded) and not question.can_start_fresh
    with pytest.raises(SignInError, match="never synced"):
        attempt.start_fresh()
    assert profile.db_path(data_root).is_file()  # untouched


def test_start_fresh_sets_the_old_copy_aside_when_nothing_is_unsynced(
    live_server: LiveServer, data_root: Path
) -> None:
    signed_in(sign_in(data_root, live_server, "admin@acme.test")).close()
    change_password_on_server(live_server, "admin@acme.test", "a brand new passphrase")
    attempt = SignIn(data_root, Credentials(live_server.url, "admin@acme.test", live_server.password))
    assert isinstance(attempt.start(), PreviousPasswordNeeded)
    session = signed_in(attempt.start_fresh())
    try:
        assert session.store.outbox() == []
        aside = list(session.profile.user_dir(data_root).glob(".replaced/*/ops.db"))
        assert len(aside) == 1  # kept, not deleted
    finally:
        session.close()
    assert len(known_organizations(data_root, live_server.url, "admin@acme.test")) == 1


def test_remember_me_reopens_without_a_password_and_sign_out_forgets(
    live_server: LiveServer, data_root: Path, os_keyring: MemoryKeyring
) -> None:
    session = signed_in(sign_in(data_root, live_server, "admin@acme.test", remember=True))
    assert session.remembered and not session.notices
    session.close()
    reopened = open_remembered(data_root, server_url=live_server.url)
    assert reopened is not None and reopened.user.email == "admin@acme.test"
    assert reopened.api.me().user.email == "admin@acme.test"  # the kept refresh token works
    assert sign_out(reopened) is None
    assert open_remembered(data_root) is None
    assert os_keyring.entries == {}


def test_without_a_keyring_remember_me_says_so(live_server: LiveServer, data_root: Path) -> None:
    assert not keychain.keyring_available()
    session = signed_in(sign_in(data_root, live_server, "admin@acme.test", remember=True))
    try:
        assert not session.remembered
        assert keychain.NO_KEYRING_MESSAGE in session.notices
    finally:
        session.close()
    assert open_remembered(data_root) is None


def test_sign_out_revokes_the_session_on_the_server(live_server: LiveServer, data_root: Path) -> None:
    session = signed_in(sign_in(data_root, live_server, "admin@acme.test"))
    token = session.api.refresh_token
    profile = session.profile
    assert sign_out(session) is None
    with pytest.raises(SessionEndedError):
        ApiClient(live_server.url, refresh_token=token).me()
    store = LocalStore.unlock(data_root, profile, live_server.password)
    try:
        assert store.get_state("session.refresh_token") is None
    finally:
        store.close()


def test_sign_out_while_offline_still_forgets_the_session_here(
    live_server: LiveServer, data_root: Path
) -> None:
    session = signed_in(sign_in(data_root, live_server, "admin@acme.test"))
    live_server.stop()
    note = sign_out(session)
    assert note is not None and "could not be told" in note
    with pytest.raises(requests.ConnectionError):
        requests.get(live_server.url + "/healthz", timeout=2)
