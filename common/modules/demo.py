"""What a module's demo-data builder returns, and the stable ids it uses.

A builder is ``builder(org, rng, users) -> list[Step]``: plain data, no store. The server's
``ops-server demo`` (``sync_server/demo.py``) runs every registered module's builders, in the
order of their :attr:`common.modules.DemoData.order`, through the real write path.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

_NAMESPACE = uuid.UUID("6f1c3f7e-4f0e-4b7a-9c1d-0c7d5e0a9b11")


@dataclass(frozen=True)
class DemoOrg:
    key: str  # acme | globex: the e-mail domain is <key>.test
    name: str
    currency: str
    seed: int
    org_id: str = ""  # known once the organization exists (its chart's account ids derive from it)


@dataclass(frozen=True)
class Step:
    role: str  # the demo user of this role performs it
    command: str
    args: dict[str, Any]


DemoBuilder = Callable[[DemoOrg, random.Random, dict[str, str]], list[Step]]


def demo_id(*parts: object) -> str:
    """A stable id from names: the same on every run."""
    return str(uuid.uuid5(_NAMESPACE, "|".join(str(p) for p in parts)))


def standard_rate(org: DemoOrg) -> str:
    """The id of the demo organization's standard VAT rate, made by finance's demo before the
    documents of the other modules that charge it."""
    return demo_id(org.key, "tax", "STD")


def user_email(role: str, org: DemoOrg) -> str:
    """The demo user of ``role`` in ``org``: ``<role>@<org key>.test``."""
    return f"{role}@{org.key}.test"
