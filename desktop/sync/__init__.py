"""The sync engine: push the outbox, pull what changed (DESIGN §5). No Qt in here.

``sync_function_for(session)`` is how the interface finds it (``desktop/ui/sync_controller.py``):
it returns ``run(progress) -> SyncReport``, which the controller runs off the GUI thread through
``desktop.background``. The engine is :class:`desktop.sync.engine.SyncEngine`; the local-store
steps are in :mod:`desktop.sync.local`, retrying in :mod:`desktop.sync.retry`.
"""

from __future__ import annotations

from collections.abc import Callable

from desktop.api_client import NotFoundError
from desktop.session import UserSession, clear_unsynced_if_empty, save_session_facts
from desktop.sync.engine import Progress, SyncEngine, SyncReport
from desktop.sync.retry import RetryPolicy, SyncCancelled


def refresh_membership(session: UserSession) -> None:
    """Ask the server for the user's memberships again (after a rights change) and keep them."""
    me = session.api.me()
    membership = me.membership(session.org_id)
    if membership is None:
        raise NotFoundError(
            f"you are no longer a member of {session.org_name}; ask an administrator",
            code="not_found",
            status=404,
        )
    session.membership = membership
    session.memberships = me.memberships
    save_session_facts(session.store, me.user, membership, me.memberships)


def engine_for(session: UserSession, *, policy: RetryPolicy | None = None) -> SyncEngine:
    return SyncEngine(
        session.store,
        session.api,
        session.org_id,
        policy=policy,
        on_resync=lambda: refresh_membership(session),
    )


def sync_function_for(
    session: UserSession, *, policy: RetryPolicy | None = None
) -> Callable[[Progress], SyncReport]:
    """The one sync entry point of the interface: ``run(progress) -> SyncReport``."""
    engine = engine_for(session, policy=policy)

    def run(progress: Progress) -> SyncReport:
        report = engine.run(progress)
        clear_unsynced_if_empty(session.store)
        return report

    return run


__all__ = [
    "RetryPolicy",
    "SyncCancelled",
    "SyncEngine",
    "SyncReport",
    "engine_for",
    "refresh_membership",
    "sync_function_for",
]
