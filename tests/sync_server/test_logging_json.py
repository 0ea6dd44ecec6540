"""``OPS_LOG_FORMAT=json``: one JSON object per line, and still nothing a user typed in it."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest

from sync_server.config import ConfigError
from sync_server.logs import configure_logging
from tests.sync_server.conftest import PASSWORD, World, mutation
from tests.sync_server.test_logging import SECRET_CODE, SECRET_NAME, clashing_command  # noqa: F401


@pytest.fixture
def json_log() -> Iterator[io.StringIO]:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    stream = io.StringIO()
    configure_logging({"OPS_LOG_FORMAT": "json"}, stream)
    try:
        yield stream
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)


def test_json_lines_carry_no_password_token_or_typed_value(
    world: World,
    clashing_command: str,  # noqa: F811 (the fixture of test_logging)
    json_log: io.StringIO,
) -> None:
    email = world.a.email("accountant")
    wrong = world.client.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD + "x"})
    assert wrong.status_code == 401
    token = world.token(email)
    response = world.push(email, world.a, [mutation(clashing_command, code=SECRET_CODE, name=SECRET_NAME)])
    incident = response.get_json()["results"][0]["details"]["incident"]
    logging.getLogger("ops-server").warning("serving plain HTTP on %s", "192.0.2.1", extra={"port": 8750})

    lines = [json.loads(line) for line in json_log.getvalue().splitlines()]
    assert lines, "nothing was logged"
    for entry in lines:
        assert {"time", "level", "logger", "message", "process"} <= set(entry)
        assert entry["time"].endswith("+00:00")
    [failure] = [e for e in lines if incident in e["message"]]
    assert failure["level"] == "ERROR" and "IntegrityError" in failure["message"]
    [warning] = [e for e in lines if e["logger"] == "ops-server"]
    assert (warning["message"], warning["port"]) == ("serving plain HTTP on 192.0.2.1", 8750)
    text = json_log.getvalue()
    for secret in (SECRET_CODE, SECRET_NAME, "98765", PASSWORD, token, email):
        assert secret not in text


def test_exceptions_are_logged_by_type_and_place_never_their_message(json_log: io.StringIO) -> None:
    try:
        raise ValueError("the salary of Dana is 98765")
    except ValueError:
        logging.getLogger("ops-test").exception("it failed")
    [entry] = [json.loads(line) for line in json_log.getvalue().splitlines()]
    assert entry["exception"] == "builtins.ValueError" and "test_logging_json.py" in entry["where"]
    assert "98765" not in json_log.getvalue()


def test_an_unknown_log_format_is_refused() -> None:
    with pytest.raises(ConfigError, match="OPS_LOG_FORMAT"):
        configure_logging({"OPS_LOG_FORMAT": "xml"})
