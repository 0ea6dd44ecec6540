"""Sample data of finance: the organization profile, a tax rate, this year's period and opening
postings."""

from __future__ import annotations

import random
from datetime import date

from common.commands.postings import chart_account_id
from common.modules.demo import DemoOrg, Step, demo_id, standard_rate

# The demo organizations' letterheads (documents print them; SEPA files pay from the IBAN).
PROFILES: dict[str, dict[str, str]] = {
    "acme": {
        "legal_name": "Acme Trading GmbH",
        "address_line1": "Hafenstraße 12",
        "postcode": "20457",
        "city": "Hamburg",
        "country": "DE",
        "tax_id": "DE123456789",
        "email": "billing@acme.test",
        "phone": "+49 40 1234567",
        "iban": "DE89370400440532013000",
        "bic": "COBADEFFXXX",
    },
    "globex": {
        "legal_name": "Globex Manufacturing Ltd",
        "address_line1": "1 Cypress Creek Road",
        "postcode": "EC1A 1BB",
        "city": "London",
        "country": "GB",
        "tax_id": "GB999999973",
        "email": "accounts@globex.test",
        "phone": "+44 20 7946 0000",
        "iban": "GB82WEST12345698765432",
        "bic": "NWBKGB2L",
    },
}


# The standard VAT rate of the demo organizations' countries (Acme in Germany, Globex in the UK).
STANDARD_RATES = {"DE": "19", "GB": "20"}


def tax_data(org: DemoOrg, rng: random.Random, users: dict[str, str]) -> list[Step]:
    """The standard VAT rate, made before the documents that charge it (the purchase orders'
    bills, the sales orders and their invoices): the demo's tax summary is not empty."""
    country = PROFILES.get(org.key, {}).get("country", "")
    rate = STANDARD_RATES.get(country, "20")
    return [
        Step(
            "accountant",
            "finance.create_tax_rate",
            {"id": standard_rate(org), "code": "STD", "name": f"Standard rate {rate} %", "rate": rate},
        )
    ]


def finance_data(org: DemoOrg, rng: random.Random, users: dict[str, str]) -> list[Step]:
    """This year's period and the owner's capital and the rent, on the default chart every
    organization gets; the other postings come from the documents themselves."""
    k = org.key
    year = date.today().year
    profile = PROFILES.get(k, {"legal_name": org.name})
    steps = [
        Step(
            "accountant",
            "finance.set_organization_profile",
            {"changes": profile, "base": dict.fromkeys(profile)},
        ),
        Step(
            "accountant",
            "finance.create_fiscal_period",
            {
                "id": demo_id(k, "period", year),
                "name": f"FY {year}",
                "start_date": f"{year}-01-01",
                "end_date": f"{year}-12-31",
            },
        ),
    ]
    entries = [
        ("Opening capital", "1000", "3000", 200_000_000),
        ("Rent January", "6500", "1000", 250_000),
    ]
    for index, (memo, debit, credit, amount) in enumerate(entries):
        steps.append(
            Step(
                "accountant",
                "finance.post_journal_entry",
                {
                    "id": demo_id(k, "journal", index),
                    "entry_date": f"{year}-01-{10 + index:02d}",
                    "currency": org.currency,
                    "memo": memo,
                    "lines": [
                        {"account_id": chart_account_id(org.org_id, debit), "debit": amount},
                        {"account_id": chart_account_id(org.org_id, credit), "credit": amount},
                    ],
                },
            )
        )
    # The first invoice is credited in part (one line), never voided.
    steps.append(
        Step(
            "sales",
            "sales.issue_credit_note",
            {
                "id": demo_id(k, "credit_note", 0),
                "invoice_id": demo_id(k, "invoice", 3),
                "reason": "Damaged in transit",
            },
        )
    )
    return steps
