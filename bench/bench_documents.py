"""Documents (issue 14): an invoice PDF ≤ 200 ms, read from the encrypted desktop store and
rendered by ``common.documents`` (the same path as Save as PDF and the server's download).

The invoice has 20 lines at two tax rates, a customer with an address and the organization's
letterhead; each round reads it (invoice, lines, customer, rates, profile) and writes the PDF.
A 200-line invoice is reported beside it for information. ``python -m bench.run_one
bench_documents --quick`` runs this module alone.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any

from bench.harness import Figure, info, median, rounds_row
from common.documents import document_pdf, load_document
from common.ids import new_id
from common.permissions import ALL_PERMISSIONS
from desktop.local_store import LocalStore
from desktop.profiles import Profile

PROFILE = {
    "legal_name": "Bench Trading GmbH",
    "address_line1": "Hafenstraße 12",
    "postcode": "20457",
    "city": "Hamburg",
    "country": "DE",
    "tax_id": "DE123456789",
    "iban": "DE89370400440532013000",
    "bic": "COBADEFFXXX",
}


def _invoice(apply: Any, customer: str, rates: list[str], lines: int) -> str:
    invoice_id = new_id()
    apply(
        "sales.create_invoice",
        {"id": invoice_id, "customer_id": customer, "issue_date": "2026-11-03", "due_date": "2026-12-03",
         "lines": [{"id": new_id(), "description": f"Item {n} — hex bolts M8, zinc plated", "quantity": f"{n}.5",
                    "unit_price": 1000 + n * 37, "tax_rate_id": rates[n % 2]} for n in range(lines)]},
    )  # fmt: skip
    apply("sales.post_invoice", {"id": invoice_id})
    return invoice_id


def _timed(store: LocalStore, org_id: str, invoice_id: str, rounds: int) -> list[float]:
    samples = []
    for _ in range(rounds):
        began = time.perf_counter()
        with store.read_session() as db:
            doc = load_document(db, org_id, "invoice", invoice_id)
        body = document_pdf(doc)
        samples.append((time.perf_counter() - began) * 1000)
        assert body.startswith(b"%PDF")
    return samples


def run(quick: bool) -> list[Figure]:
    rounds = 7 if quick else 21
    org_id, actor = new_id(), new_id()
    with tempfile.TemporaryDirectory(prefix="bench-documents-") as tmp:
        store = LocalStore.create(
            Path(tmp), Profile("https://bench.example", "acc@example.test", org_id), "pw"
        )
        try:
            apply = lambda name, args: store.apply(name, args, actor_id=actor, permissions=ALL_PERMISSIONS)  # noqa: E731
            apply("finance.set_up_books", {"currency": "EUR"})
            apply("finance.set_organization_profile", {"changes": PROFILE, "base": dict.fromkeys(PROFILE)})
            rates = []
            for rate in ("20", "7"):
                rates.append(new_id())
                apply(
                    "finance.create_tax_rate",
                    {"id": rates[-1], "code": f"VAT{rate}", "name": "VAT", "rate": rate},
                )
            customer = new_id()
            apply(
                "sales.create_customer",
                {"id": customer, "name": "Ada Lovelace Ltd", "address": "1 Analytical Row\nLondon N1 2AB"},
            )
            small, large = _invoice(apply, customer, rates, 20), _invoice(apply, customer, rates, 200)
            _timed(store, org_id, small, 2)  # warm up: imports, fonts, page cache
            per_round = _timed(store, org_id, small, rounds)
            large_rounds = _timed(store, org_id, large, max(3, rounds // 3))
        finally:
            store.close()
    return [
        rounds_row("invoice PDF, 20 lines (read + render)", per_round, unit="ms", at_most=200),
        info("invoice PDF, 200 lines (read + render)", median(large_rounds), "ms"),
    ]


if __name__ == "__main__":
    from bench.harness import render

    print(render([f.as_dict() for f in run(quick=True)], {}))
