"""The change-log ordering guarantee (DESIGN §5, last paragraph), under real concurrency.

Several threads push into one organization over HTTP while others pull repeatedly. Afterwards,
with every change committed, each puller's history is replayed: whenever a pull answered with a
cursor at sequence C, every change with a sequence ≤ C must already have reached that puller.
A pull that passed a sequence before the transaction holding it committed would break this —
the change would never be delivered. And every change a pusher was told ``applied`` arrives.
"""

from __future__ import annotations

import random
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import requests
from sqlalchemy import select

from common.schema import SCHEMA_VERSION, ChangeLog
from sync_server.serve import BackgroundServer
from tests.sync_server.conftest import World, mutation, product
from tests.sync_server.pulling import cursor_of

PUSHERS = 4
PULLERS = 3
BATCHES = 12
DEADLINE_S = 120


@dataclass
class PullerLog:
    # (cursor sequence, or None while a snapshot is in progress; the rows the answer held)
    responses: list[tuple[int | None, list[tuple[str, str]]]] = field(default_factory=list)
    delivered: set[tuple[str, str]] = field(default_factory=set)
    errors: list[str] = field(default_factory=list)


def test_a_puller_never_misses_a_change_pushed_concurrently(
    world: World, live_server: BackgroundServer
) -> None:
    org = world.a
    base = f"{live_server.url}/api/v1/orgs/{org.id}/sync"
    tokens = [world.token(org.email(role)) for role in ("admin", "warehouse")]
    applied_ids: list[str] = []
    push_errors: list[str] = []
    pushing_done = threading.Event()
    lock = threading.Lock()

    def pusher(n: int) -> None:
        rng = random.Random(n)
        http = requests.Session()
        headers = {"Authorization": f"Bearer {tokens[n % len(tokens)]}"}
        mine: list[tuple[str, str]] = []  # (id, current name)
        for batch_no in range(BATCHES):
            batch = [product(f"T{n}-{batch_no}-{k}") for k in range(3)]
            for _ in range(2):
                if mine:
                    i = rng.randrange(len(mine))
                    pid, old = mine[i]
                    new = f"{old}+"
                    batch.append(
                        mutation(
                            "inventory.update_product", id=pid, changes={"name": new}, base={"name": old}
                        )
                    )
                    mine[i] = (pid, new)
            body = {"client_id": f"pusher-{n}", "schema_version": SCHEMA_VERSION, "mutations": batch}
            answer = http.post(f"{base}/push", json=body, headers=headers, timeout=60)
            if answer.status_code != 200:
                push_errors.append(f"{answer.status_code} {answer.text[:200]}")
                return
            for sent, result in zip(batch, answer.json()["results"], strict=True):
                if result["status"] != "applied":
                    push_errors.append(str(result))
                elif sent["name"] == "inventory.create_product":
                    mine.append((sent["args"]["id"], sent["args"]["name"]))
                    with lock:
                        applied_ids.append(sent["args"]["id"])

    def puller(log: PullerLog, seed: int) -> None:
        rng = random.Random(seed)
        http = requests.Session()
        headers = {"Authorization": f"Bearer {tokens[seed % len(tokens)]}"}
        cursor = None
        deadline = time.monotonic() + DEADLINE_S
        while time.monotonic() < deadline:
            finished = pushing_done.is_set()
            params: dict[str, Any] = {"limit": rng.randint(2, 9)}
            if cursor is not None:
                params["cursor"] = cursor
            answer = http.get(f"{base}/pull", params=params, headers=headers, timeout=60)
            if answer.status_code != 200:
                log.errors.append(f"{answer.status_code} {answer.text[:200]}")
                return
            body = answer.json()
            cursor = body["cursor"]
            keys = [(c["entity"], c["id"]) for c in body["changes"]]
            log.delivered.update(keys)
            state = cursor_of(cursor, org)
            log.responses.append((None if state.in_snapshot else state.seq, keys))
            if finished and not body["has_more"]:
                return
        log.errors.append("did not catch up before the deadline")

    logs = [PullerLog() for _ in range(PULLERS)]
    pullers = [threading.Thread(target=puller, args=(logs[i], i)) for i in range(PULLERS)]
    pushers = [threading.Thread(target=pusher, args=(i,)) for i in range(PUSHERS)]
    for thread in pullers + pushers:
        thread.start()
    for thread in pushers:
        thread.join(DEADLINE_S)
    pushing_done.set()
    for thread in pullers:
        thread.join(DEADLINE_S)

    assert not push_errors, push_errors[:3]
    assert len(applied_ids) == PUSHERS * BATCHES * 3
    with world.services.store.session(org.id) as db:
        log_rows = db.execute(
            select(ChangeLog.seq, ChangeLog.entity, ChangeLog.entity_id)
            .where(ChangeLog.org_id == org.id)
            .order_by(ChangeLog.seq)
        ).all()
    seqs = [row.seq for row in log_rows]
    assert seqs == list(range(1, len(seqs) + 1)), "the change sequence has gaps"
    for number, log in enumerate(logs):
        assert not log.errors, (number, log.errors[:3])
        assert {("product", pid) for pid in applied_ids} <= log.delivered, f"puller {number} missed changes"
        seen: set[tuple[str, str]] = set()
        covered = 0
        for cursor_seq, keys in log.responses:
            seen.update(keys)
            if cursor_seq is None:
                continue
            while covered < len(log_rows) and log_rows[covered].seq <= cursor_seq:
                row = log_rows[covered]
                assert (row.entity, row.entity_id) in seen, (
                    f"puller {number} was given cursor {cursor_seq} before change {row.seq} reached it"
                )
                covered += 1
        assert covered == len(log_rows), f"puller {number} did not reach the end of the log"
