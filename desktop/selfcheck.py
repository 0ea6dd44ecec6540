"""``ops-desktop --self-check``: does this installation have every part it needs?

Installers bundle the program with PyInstaller, which finds most modules by following imports but
misses what is loaded by name or from files: Qt's platform plugins, the keyring backends (found
through package metadata), the CA bundle, the schema's Alembic migrations (Python files read from
disk). Each check below loads one of them the way the program does, prints one line, and the exit
status is 0 only when all pass:

- **sqlcipher**: the SQLCipher library encrypts (a wrong key is refused);
- **store**: a fresh encrypted local store is created, migrated to the newest revision, opened
  again with its password and takes a command (the migrations and the command framework load);
- **tls**: the certificates ``requests`` verifies servers with load (``OPS_CA_BUNDLE`` /
  ``--ca-bundle`` when given, else ``REQUESTS_CA_BUNDLE``, else certifi's bundle);
- **keyring**: this platform's keyring backend is registered and importable (whether a keyring
  service runs right now is reported, not required: without one the program asks for the password
  at each sign-in);
- **qt plugin**: Qt's platform plugin for this session loads with its system libraries;
- **interface**: in a child process (Qt ends the process when a platform cannot start), a
  ``QApplication`` starts and the main window opens over a fresh encrypted store, then closes;
- **server** (with ``--server``): the server answers ``/healthz`` over the configured TLS.

Nothing here writes outside a temporary directory, and nothing personal is printed.
"""

from __future__ import annotations

import os
import ssl
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from importlib import import_module, metadata
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from desktop.version import PRODUCT_NAME, app_version, is_frozen, sqlcipher_version

GUI_PROBE_FLAG = "--self-check-gui"
GUI_PROBE_TIMEOUT_S = 120
# What a local-only session says it is (no server is contacted by the probes).
if TYPE_CHECKING:
    from desktop.session import UserSession

_PROBE_SERVER = "http://127.0.0.1:9"
_PROBE_EMAIL = "self-check@localhost"
_PROBE_PASSWORD = "self-check password"  # noqa: S105 (a throw-away store in a temporary directory)
# The keyring backend each platform's "Remember on this computer" uses.
_KEYRING_BACKENDS = {
    "linux": ("SecretService", "keyring.backends.SecretService"),
    "win32": ("Windows", "keyring.backends.Windows"),
    "darwin": ("macOS", "keyring.backends.macOS"),
}


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str


def _guarded(name: str, probe: Callable[[], Check]) -> Check:
    try:
        return probe()
    except Exception as exc:  # a self-check reports every failure, it never crashes
        return Check(name, False, f"{type(exc).__name__}: {exc}")


# -- the checks ---------------------------------------------------------------------------------


def check_sqlcipher(workdir: Path) -> Check:
    import sqlcipher3

    from common.db import WrongKeyError, check_key, new_key

    path = workdir / "probe.db"
    key = new_key()
    conn = sqlcipher3.connect(str(path))
    try:
        conn.execute(f"PRAGMA key = \"x'{key.hex()}'\"")
        conn.execute("CREATE TABLE probe (value TEXT)")
        conn.execute("INSERT INTO probe VALUES ('secret')")
        conn.commit()
    finally:
        conn.close()
    if b"secret" in path.read_bytes():
        return Check("sqlcipher", False, "the database file is not encrypted")
    check_key(path, key)
    quiet = sqlcipher3.connect(":memory:")
    quiet.execute("PRAGMA cipher_log_level = NONE")  # the refused key is expected: no error log
    quiet.close()
    try:
        check_key(path, new_key())
    except WrongKeyError:
        return Check("sqlcipher", True, f"SQLCipher {sqlcipher_version()} encrypts; a wrong key is refused")
    return Check("sqlcipher", False, "a wrong key opened the database")


def local_only_session(root: Path, password: str = _PROBE_PASSWORD) -> UserSession:
    """A session over a fresh encrypted store, as after an offline sign-in (no server)."""
    from desktop.session import local_session

    return local_session(
        root, _PROBE_SERVER, _PROBE_EMAIL, password, org_name="Self-check", user_name="Self-check"
    )


def check_store(workdir: Path) -> Check:
    from common import migrate
    from common.ids import new_id
    from desktop.local_store import LocalStore

    session = local_only_session(workdir / "store")
    profile = session.profile
    session.apply("inventory.create_warehouse", {"id": new_id(), "code": "CHECK", "name": "Self-check"})
    session.close()
    store = LocalStore.unlock(workdir / "store", profile, _PROBE_PASSWORD)
    try:
        with store.engine.connect() as connection:
            revision = migrate.current_revision(connection)
        pending = store.pending_count()
    finally:
        store.close()
    head = migrate.head_revision()
    if revision != head or pending != 1:
        return Check("store", False, f"revision {revision} (expected {head}), {pending} queued command(s)")
    return Check("store", True, f"a fresh encrypted store migrated to revision {head} and took a command")


def ca_bundle_in_use(ca_bundle: str | None = None) -> tuple[str, str]:
    """The CA file ``requests`` will verify with, and where that choice came from."""
    import requests.certs

    for name, value in (
        ("--ca-bundle", ca_bundle),
        ("OPS_CA_BUNDLE", os.environ.get("OPS_CA_BUNDLE")),
        ("REQUESTS_CA_BUNDLE", os.environ.get("REQUESTS_CA_BUNDLE")),
        ("CURL_CA_BUNDLE", os.environ.get("CURL_CA_BUNDLE")),
    ):
        if value:
            return value, name
    return requests.certs.where(), "certifi"


def check_tls(ca_bundle: str | None = None) -> Check:
    path, source = ca_bundle_in_use(ca_bundle)
    if not Path(path).is_file():
        return Check("tls", False, f"the CA bundle {path} ({source}) does not exist")
    context = ssl.create_default_context(cafile=path)
    count = context.cert_store_stats()["x509_ca"]
    if count == 0:
        return Check("tls", False, f"the CA bundle {path} ({source}) holds no certificate")
    return Check("tls", True, f"{count} CA certificates from {source} ({path})")


def check_keyring() -> Check:
    import keyring

    from desktop.keychain import NO_KEYRING_MESSAGE, keyring_available

    platform_key = "linux" if sys.platform.startswith("linux") else sys.platform
    expected = _KEYRING_BACKENDS.get(platform_key)
    registered = {ep.name: ep.value for ep in metadata.entry_points(group="keyring.backends")}
    if expected is None:
        return Check(
            "keyring", True, f"no native keyring known for {sys.platform}; the password is asked each time"
        )
    name, module_name = expected
    if registered.get(name) != module_name:
        return Check(
            "keyring", False, f"the {name} backend is not registered (keyring's package metadata is missing)"
        )
    backend_class = getattr(import_module(module_name), "Keyring", None)
    if backend_class is None:
        return Check("keyring", False, f"{module_name} has no Keyring class")
    try:
        backend_class.priority  # noqa: B018 (raises when the backend cannot work here)
    except Exception as exc:
        reason = str(exc)
        if "required" in reason.lower():  # a library the backend needs is not installed
            return Check("keyring", False, f"the {name} backend cannot load: {reason}")
    active = keyring.get_keyring()
    usable = keyring_available()
    state = "remembering works" if usable else NO_KEYRING_MESSAGE.split(",")[0] + " right now"
    return Check("keyring", True, f"{name} backend loads; active: {type(active).__module__}; {state}")


def platform_name() -> str:
    """The Qt platform this session starts with (``QT_QPA_PLATFORM`` or the system's)."""
    chosen = os.environ.get("QT_QPA_PLATFORM", "").split(";")[0].split(":")[0].strip()
    if chosen:
        return chosen
    if sys.platform == "win32":
        return "windows"
    if sys.platform == "darwin":
        return "cocoa"
    if os.environ.get("XDG_SESSION_TYPE") == "wayland" and os.environ.get("WAYLAND_DISPLAY"):
        return "wayland"
    return "xcb"


def check_qt_plugin() -> Check:
    import ctypes

    from PySide6.QtCore import QLibraryInfo

    name = platform_name()
    plugins = Path(QLibraryInfo.path(QLibraryInfo.LibraryPath.PluginsPath)) / "platforms"
    file = {"win32": f"q{name}.dll", "darwin": f"libq{name}.dylib"}.get(sys.platform, f"libq{name}.so")
    path = plugins / file
    if not path.is_file():
        return Check("qt plugin", False, f"the Qt platform plugin {name} is not installed ({path})")
    try:
        ctypes.CDLL(str(path))  # resolves the system libraries it needs, as Qt will
    except OSError as exc:
        return Check("qt plugin", False, f"the Qt platform plugin {name} cannot load: {exc}")
    return Check("qt plugin", True, f"{name} ({path})")


def gui_probe_command(workdir: Path) -> list[str]:
    if is_frozen():
        return [sys.executable, GUI_PROBE_FLAG, str(workdir)]
    return [sys.executable, "-m", "desktop.app", GUI_PROBE_FLAG, str(workdir)]


def check_interface(workdir: Path) -> Check:
    from desktop.app import display_problem

    problem = display_problem()
    if problem is not None:
        return Check("interface", False, problem.splitlines()[0])
    result = subprocess.run(
        gui_probe_command(workdir / "gui"),
        capture_output=True,
        text=True,
        timeout=GUI_PROBE_TIMEOUT_S,
        check=False,
    )
    if result.returncode != 0:
        said = (result.stderr or result.stdout).strip().splitlines()[-3:]
        return Check("interface", False, f"exit {result.returncode}: " + " | ".join(said))
    return Check("interface", True, result.stdout.strip().splitlines()[-1])


def gui_probe(workdir: Path) -> int:
    """The child of :func:`check_interface`: start Qt, open the main window, close it."""
    from desktop.qt import QApplication
    from desktop.ui.main_window import MainWindow
    from desktop.ui.theme import apply_theme

    app = QApplication.instance() or QApplication([sys.argv[0]])
    assert isinstance(app, QApplication)
    apply_theme(app)
    session = local_only_session(workdir)
    window = MainWindow(session)
    window.show()
    for _ in range(5):
        app.processEvents()
    pages = len(window.page_keys())
    title = window.windowTitle()
    window.close()
    session.close()
    print(
        f"Qt {QApplication.platformName()}: the main window opened over a fresh encrypted store "
        f"({title!r}, {pages} pages)",
        flush=True,
    )
    return 0


def check_server(server_url: str, ca_bundle: str | None) -> Check:
    import requests

    from desktop.api_client import check_server_url, resolve_ca_bundle

    url = check_server_url(server_url)
    response = requests.get(f"{url}/healthz", timeout=10, verify=resolve_ca_bundle(ca_bundle))
    if response.status_code != 200:
        return Check("server", False, f"{url}/healthz answered {response.status_code}")
    version = response.json().get("schema_version")
    return Check("server", True, f"{url} answers (schema version {version})")


# -- the command ------------------------------------------------------------------------------


def _console_output() -> TextIO:
    """Where to print: stdout, or on Windows the console a windowed build was started from."""
    if sys.stdout is not None:
        return sys.stdout
    if sys.platform == "win32":
        import ctypes

        if ctypes.windll.kernel32.AttachConsole(-1):  # type: ignore[attr-defined]
            return open("CONOUT$", "w", encoding="utf-8")
    return open(os.devnull, "w", encoding="utf-8")


def run_self_check(out: TextIO | None = None, *, server_url: str = "", ca_bundle: str | None = None) -> int:
    """Run every check, print one line each; 0 when all pass, 1 otherwise."""
    out = out or _console_output()
    print(
        f"{PRODUCT_NAME} {app_version()} self-check ({'installer build' if is_frozen() else 'package'})",
        file=out,
    )
    with tempfile.TemporaryDirectory(prefix="ops-self-check-") as tmp:
        workdir = Path(tmp)
        probes: list[tuple[str, Callable[[], Check]]] = [
            ("sqlcipher", lambda: check_sqlcipher(workdir)),
            ("store", lambda: check_store(workdir)),
            ("tls", lambda: check_tls(ca_bundle)),
            ("keyring", check_keyring),
            ("qt plugin", check_qt_plugin),
            ("interface", lambda: check_interface(workdir)),
        ]
        if server_url:
            probes.append(("server", lambda: check_server(server_url, ca_bundle)))
        results = []
        for name, probe in probes:
            check = _guarded(name, probe)
            results.append(check)
            print(f"  {'ok  ' if check.ok else 'FAIL'} {check.name:<10} {check.detail}", file=out, flush=True)
    failed = [c.name for c in results if not c.ok]
    print("all checks passed" if not failed else f"failed: {', '.join(failed)}", file=out)
    return 0 if not failed else 1
