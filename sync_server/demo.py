"""``ops-server demo``: the two demo organizations, one user per built-in role, sample data.

Sample data goes through the real write path (:func:`sync_server.writes.apply_mutations`) with
registered commands, acted by the demo user of the role that would do it, so the audit trail and
change log are exactly what real use produces. Every id (rows and mutation ids) is derived from
names, so running the demo again answers ``duplicate`` for every command and changes nothing.

Each module declares its sample data in its spec (:attr:`common.modules.ModuleSpec.demo`): small
functions returning :class:`~common.modules.demo.Step` s, run in the order the spec gives. A step
whose command is not registered (a module not built yet) is skipped.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

from common.commands import REGISTRY
from common.modules import demo_builders
from common.modules.demo import DemoOrg, Step, demo_id, user_email
from common.permissions import BUILTIN_ROLES
from common.wire import Mutation
from sync_server import admin_ops
from sync_server.services import Services
from sync_server.writes import apply_mutations

__all__ = ["DEMO_ORGS", "DemoOrg", "Step", "demo_id", "seed_demo", "user_email"]

BATCH = 500

DEMO_ORGS = (
    DemoOrg("acme", "Acme Trading", "EUR", 1),
    DemoOrg("globex", "Globex Manufacturing", "USD", 2),
)


# -- seeding -------------------------------------------------------------------------------------


# How a demo user's role reads in their name ("HR (Globex)", never "Hr (Globex)").
_ROLE_ACRONYMS = {"hr": "HR"}


def demo_role_title(role: str) -> str:
    """``hr`` → ``HR``, ``project_manager`` → ``Project manager``."""
    return _ROLE_ACRONYMS.get(role, role.replace("_", " ").capitalize())


def _ensure_users(services: Services, org: DemoOrg, password: str) -> tuple[str, dict[str, str], int]:
    store = services.store
    try:
        org_id, _ = admin_ops.find_org(store, org.name)
    except admin_ops.AdminError:
        org_id = admin_ops.create_org(
            store, org.name, base_currency=org.currency, org_id=demo_id(org.key, "org")
        )
    users: dict[str, str] = {}
    existing = {role: admin_ops.find_user(store, user_email(role, org)) for role in BUILTIN_ROLES}
    missing = [role for role, user_id in existing.items() if user_id is None]
    # Argon2 releases the GIL: hash the new users' passwords on every core.
    with ThreadPoolExecutor() as pool:
        hashes = dict(
            zip(missing, pool.map(lambda _: services.passwords.hash(password), missing), strict=True)
        )
    for role in BUILTIN_ROLES:
        email = user_email(role, org)
        user_id = existing[role]
        if user_id is None:
            name = f"{demo_role_title(role)} ({org.name.split()[0]})"
            user_id = admin_ops.create_user(
                store, services.passwords, email, name, password, password_hash=hashes[role]
            )
        admin_ops.grant(store, email, org_id, role)
        users[role] = user_id
    return org_id, users, len(missing)


def _apply(
    services: Services, org_id: str, org: DemoOrg, users: dict[str, str], steps: list[Step]
) -> dict[str, int]:
    counts = {"applied": 0, "duplicate": 0, "rejected": 0}
    runnable = [s for s in steps if s.command in REGISTRY]
    start = 0
    while start < len(runnable):
        role = runnable[start].role
        end = start
        while end < len(runnable) and runnable[end].role == role and end - start < BATCH:
            end += 1
        mutations = [
            Mutation(
                # Ids from the step's content, never its position: adding a module keeps them.
                id=demo_id(org.key, "mutation", s.command, s.args.get("id") or sorted(s.args.items())),
                name=s.command,
                args=s.args,
            )
            for s in runnable[start:end]
        ]
        with services.store.session(org_id, user_id=users[role], write=True) as session:
            results = apply_mutations(session, org_id, users[role], None, BUILTIN_ROLES[role], mutations)
        for result in results:
            counts[result.status] += 1
            if result.status == "rejected":
                raise RuntimeError(f"demo data was refused: {result.code}: {result.message}")
        start = end
    return counts


def seed_demo(services: Services, password: str, progress: Callable[[str], None] | None = None) -> list[str]:
    """Seed (or top up) both demo organizations. Returns a human-readable report.

    ``progress`` hears what is being done, as it starts (the first run takes a while)."""
    report = []
    for number, org in enumerate(DEMO_ORGS, start=1):
        if progress is not None:
            progress(f"Creating demo organization {number} of {len(DEMO_ORGS)}: {org.name}…")
        org_id, users, created = _ensure_users(services, org, password)
        org = replace(org, org_id=org_id)
        rng = random.Random(org.seed)
        steps = [step for build in demo_builders() for step in build(org, rng, users)]
        counts = _apply(services, org_id, org, users, steps)
        report.append(
            f"{org.name} ({org_id}): {created} users created, {counts['applied']} commands applied, "
            f"{counts['duplicate']} already present; sign in as <role>@{org.key}.test"
        )
    report.append("roles: " + ", ".join(BUILTIN_ROLES))
    return report
