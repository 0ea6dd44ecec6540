"""Pull cursors against the store's position: the store epoch and a store put back.

A cursor says "after change N of this store". After ``ops-server restore`` the store hands out
numbers after its backup's last change again, for other changes, so a cursor from before the
restore is never answered from it (``store_restored``); a cursor ahead of the store's last change
(the store was put back by other means) is not either (``cursor_ahead``). Cursors issued before
epochs existed still work on a store never restored.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import replace

import orjson
from sqlalchemy import insert

from common.schema import OrgSequence
from sync_server.pull_cursor import EPOCH_SEQUENCE
from tests.sync_server.conftest import World, product
from tests.sync_server.pulling import KEY, applied, cursor_of, forge, pull_all, pull_page


def _reason(response: object) -> tuple[int, str, str]:
    body = response.get_json()  # type: ignore[attr-defined]
    error = body["error"]
    return response.status_code, error["code"], error["details"].get("reason", "")  # type: ignore[attr-defined]


def _set_epoch(world: World, value: int) -> None:
    with world.services.store.session(world.a.id, write=True) as db:
        db.execute(insert(OrgSequence).values(org_id=world.a.id, name=EPOCH_SEQUENCE, value=value))


def test_a_cursor_of_another_epoch_must_resync(world: World) -> None:
    email = world.a.email("warehouse")
    applied(world, email, world.a, [product("A")])
    before = pull_all(world, email, world.a).cursor
    assert before is not None and cursor_of(before, world.a).epoch == 0
    _set_epoch(world, 424242)  # what a restore does
    assert _reason(pull_page(world, email, world.a, before)) == (409, "resync_required", "store_restored")
    # In the middle of a snapshot too.
    mid_snapshot = forge(replace(cursor_of(before, world.a), entity="product", after_id=""))
    assert _reason(pull_page(world, email, world.a, mid_snapshot)) == (
        409,
        "resync_required",
        "store_restored",
    )
    # A fresh download carries the new epoch and continues normally.
    again = pull_all(world, email, world.a)
    assert again.cursor is not None and cursor_of(again.cursor, world.a).epoch == 424242
    applied(world, email, world.a, [product("B")])
    after = pull_all(world, email, world.a, again.cursor)
    assert [c["data"]["sku"] for c in after.changes] == ["B"]


def test_a_cursor_ahead_of_the_store_must_resync(world: World) -> None:
    email = world.a.email("warehouse")
    applied(world, email, world.a, [product("A")])
    cursor = cursor_of(pull_all(world, email, world.a).cursor or "", world.a)
    ahead = forge(replace(cursor, seq=cursor.seq + 5))
    assert _reason(pull_page(world, email, world.a, ahead)) == (409, "resync_required", "cursor_ahead")
    assert pull_page(world, email, world.a, forge(cursor)).status_code == 200


def test_a_cursor_from_before_epochs_still_works(world: World) -> None:
    email = world.a.email("warehouse")
    applied(world, email, world.a, [product("A")])
    cursor = cursor_of(pull_all(world, email, world.a).cursor or "", world.a)
    # The six-field form every earlier server issued, signed as it signed it.
    fields = [cursor.org_id, cursor.seq, "", "", cursor.fingerprint, cursor.schema_version]
    body = "1." + base64.urlsafe_b64encode(orjson.dumps(fields)).rstrip(b"=").decode()
    mac = hmac.new(KEY, body.encode(), hashlib.sha256).digest()[:16]
    legacy = body + "." + base64.urlsafe_b64encode(mac).rstrip(b"=").decode()
    applied(world, email, world.a, [product("B")])
    response = pull_page(world, email, world.a, legacy)
    assert response.status_code == 200
    assert [c["data"]["sku"] for c in response.get_json()["changes"]] == ["B"]
