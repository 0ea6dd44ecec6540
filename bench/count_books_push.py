"""Instructions of one 1,000-command push of 500 invoices created and posted, on the push's own
path (``sync_server.writes.apply_in_slices``: slices of 50 committed separately on the embedded
store), in an organization with books or without: the load-independent form of
``bench_books_push``'s ratio (bench/README.md, "Branch `post3`").

    valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file=posted.out \\
        python -m bench.count_books_push posted
    valgrind ... --callgrind-out-file=unposted.out python -m bench.count_books_push unposted
    callgrind_annotate posted.out | grep TOTALS

A second argument, ``1`` or ``2`` (default 2), is the scheme of derived ids the push is applied
with (``Ops-Derived-Ids``: 1 = without the header, as older desktops push; bench/README.md,
"Branch `ids8`").

Ids are made as a workstation makes them (``common.ids.new_id``, time-ordered). Two pushes of
the same shape warm up first; only the third is counted (``callgrind_control -i on/off`` around
it). Without valgrind the push's CPU seconds are printed instead.
"""

from __future__ import annotations

import gc
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from bench.bench_books_push import _invoices, _mutation


def _callgrind(switch: str) -> bool:
    """Turn callgrind's counting on or off for this process; False when not under valgrind."""
    try:
        done = subprocess.run(
            ["callgrind_control", "-i", switch, str(os.getpid())], capture_output=True, check=False
        )
    except FileNotFoundError:
        return False
    return done.returncode == 0 and b"Error" not in done.stdout + done.stderr


def main(books: bool, derived_ids: int = 2) -> None:
    from common.ids import new_id
    from common.permissions import ALL_PERMISSIONS
    from sync_server import admin_ops
    from sync_server.config import ServerConfig, normalize_database_url
    from sync_server.store import prepare_store
    from sync_server.writes import apply_in_slices, settle_heap

    config = ServerConfig(
        data_dir=Path(tempfile.mkdtemp(prefix="count-books-push-")), database_url=normalize_database_url(None)
    )
    store = prepare_store(config)
    settle_heap()
    user = str(uuid.uuid4())

    def push(org_id: str, batch: list[Any]) -> None:
        results = apply_in_slices(store, org_id, user, None, ALL_PERMISSIONS, batch, derived_ids=derived_ids)
        assert {r.status for r in results} == {"applied"}, [r for r in results if r.status != "applied"][:1]

    org_id = admin_ops.create_org(store, f"Count {uuid.uuid4().hex[:8]}", books=books)
    customer, tax_rate = new_id(), new_id()
    push(org_id,
         [_mutation("sales.create_customer", {"id": customer, "name": "Customer"}),
          _mutation("finance.create_tax_rate", {"id": tax_rate, "code": "VAT", "name": "VAT", "rate": "20"})])  # fmt: skip
    for _ in range(2):
        push(org_id, _invoices(customer, tax_rate))
    batch = _invoices(customer, tax_rate)
    # The same collector state on both sides: a full collection that falls inside the counted
    # push on one side and not the other moved its count by 10-13M (bench/README.md, stop 28).
    gc.collect()
    counting = _callgrind("on")
    start = time.process_time()
    push(org_id, batch)
    seconds = time.process_time() - start
    if counting:
        _callgrind("off")
    else:
        print(f"{'posted' if books else 'without books'} (derived ids {derived_ids}): {seconds:.3f} s of CPU")
    store.dispose()


if __name__ == "__main__":
    if (
        len(sys.argv) not in (2, 3)
        or sys.argv[1] not in ("posted", "unposted")
        or sys.argv[2:] not in ([], ["1"], ["2"])
    ):
        sys.exit("usage: python -m bench.count_books_push posted|unposted [1|2]")
    main(sys.argv[1] == "posted", int(sys.argv[2]) if len(sys.argv) == 3 else 2)
