"""The program's version, its About dialog, ``--self-check``, and a server older than it."""

from __future__ import annotations

import io
import re
import tomllib
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from common.ids import new_id
from common.schema import SCHEMA_VERSION
from desktop import selfcheck
from desktop.api_client import ApiClient
from desktop.session import UserSession
from desktop.sync import engine as sync_engine
from desktop.ui.about import AboutDialog
from desktop.ui.main_window import MainWindow
from desktop.version import app_version, user_agent
from tests.desktop.conftest import LiveServer
from tests.desktop.test_sync_ui import open_window, press_f5, sign_in

ROOT = Path(__file__).resolve().parents[2]


def test_the_version_is_the_package_version_of_pyproject() -> None:
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["project"]["version"]
    assert app_version() == declared
    assert (
        ApiClient("http://127.0.0.1:9").http.headers["User-Agent"]
        == f"ops-desktop/{declared}"
        == user_agent()
    )


def test_about_opens_from_the_user_menu_and_lists_the_parts(qtbot: QtBot, session: UserSession) -> None:
    window = MainWindow(session)
    qtbot.addWidget(window)
    assert window.about_action in window.user_menu.actions()
    window.about_action.trigger()
    dialogs = [w for w in window.findChildren(AboutDialog) if w.isVisible()]
    assert len(dialogs) == 1
    about = dialogs[0]
    assert about.values["version"].text() == app_version()
    assert re.fullmatch(r"\d+\.\d+\.\d+", about.values["qt"].text())
    assert (
        "SQLCipher" not in about.values["sqlcipher"].text() and about.values["sqlcipher"].text()[0].isdigit()
    )
    about.copy_details()
    from desktop.qt import QGuiApplication

    assert f"version: {app_version()}" in QGuiApplication.clipboard().text()
    about.close()


def test_self_check_runs_every_check_and_passes_here() -> None:
    out = io.StringIO()
    assert selfcheck.run_self_check(out) == 0, out.getvalue()
    text = out.getvalue()
    for name in ("sqlcipher", "store", "tls", "keyring", "qt plugin", "interface"):
        assert re.search(rf"^  ok   {re.escape(name)} ", text, re.MULTILINE), text
    assert "main window opened over a fresh encrypted store" in text and "all checks passed" in text


def test_self_check_fails_on_a_missing_ca_bundle_and_an_unreachable_server(tmp_path: Path) -> None:
    out = io.StringIO()
    code = selfcheck.run_self_check(
        out, server_url="http://127.0.0.1:9", ca_bundle=str(tmp_path / "none.pem")
    )
    assert code == 1
    assert re.search(r"^  FAIL tls .*none\.pem .*does not exist", out.getvalue(), re.MULTILINE)
    assert re.search(r"^  FAIL server ", out.getvalue(), re.MULTILINE)
    assert "failed: tls, server" in out.getvalue()


def test_self_check_reports_a_server_that_answers(live_server: LiveServer) -> None:
    out = io.StringIO()
    selfcheck.run_self_check(out, server_url=live_server.url)
    assert f"ok   server     {live_server.url} answers (schema version {SCHEMA_VERSION})" in out.getvalue()


def test_a_program_newer_than_the_server_is_told_so_and_keeps_its_changes(
    qtbot: QtBot, live_server: LiveServer, data_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    session = sign_in(data_root, live_server.url, "warehouse@acme.test", live_server.password)
    session.apply("inventory.create_warehouse", {"id": new_id(), "code": "NEW", "name": "New"})
    monkeypatch.setattr(sync_engine, "SCHEMA_VERSION", SCHEMA_VERSION + 1)  # what a newer build sends
    window = open_window(qtbot, session)
    press_f5(qtbot, window)
    shown = window.notice.text()
    assert window.notice.isVisible()
    assert "newer than the server" in shown and "upgrade the server" in shown
    assert "1 unsent change is kept" in shown
    assert session.store.pending_count() == 1
    window.close()
    session.close()
