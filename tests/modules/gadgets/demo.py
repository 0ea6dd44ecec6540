"""The gadgets module's demo data."""

from __future__ import annotations

import random

from common.modules.demo import DemoOrg, Step, demo_id


def gadget_data(org: DemoOrg, rng: random.Random, users: dict[str, str]) -> list[Step]:
    return [Step("admin", "gadgets.create_gadget", {"id": demo_id(org.key, "gadget", 0), "name": "Sprocket"})]
