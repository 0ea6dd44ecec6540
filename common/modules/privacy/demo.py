"""Sample data of privacy: an opt-out and an open data subject request."""

from __future__ import annotations

import random

from common.modules.demo import DemoOrg, Step, demo_id


def privacy_data(org: DemoOrg, rng: random.Random, users: dict[str, str]) -> list[Step]:
    """A customer's opt-out and an open data subject request."""
    k = org.key
    return [
        Step(
            "admin",
            "privacy.set_communication_preference",
            {
                "subject_type": "customer",
                "subject_id": demo_id(k, "customer", 2),
                "channel": "email",
                "purpose": "marketing",
                "opted_out": True,
            },
        ),
        Step(
            "admin",
            "privacy.open_data_subject_request",
            {
                "id": demo_id(k, "dsr", 0),
                "subject_type": "customer",
                "subject_id": demo_id(k, "customer", 3),
                "kind": "access",
                "details": "Asked by e-mail for a copy of their data",
            },
        ),
    ]
