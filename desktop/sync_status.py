"""What the status bar says about sync (no Qt here, so it is tested directly)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from desktop.formatting import count


@dataclass(frozen=True)
class SyncSnapshot:
    """The facts the status bar shows. ``online`` is ``None`` until the first contact attempt."""

    online: bool | None
    syncing: bool
    pending: int
    attention: int
    last_sync_at: datetime | None


def ago(then: datetime, now: datetime) -> str:
    seconds = max(0, int((now - then).total_seconds()))
    if seconds < 60:
        return "just now"
    minutes = seconds // 60
    if minutes < 60:
        return f"{minutes} min ago"
    hours = minutes // 60
    if hours < 48:
        return f"{hours} h ago"
    return f"on {then.date().isoformat()}"


def plural(n: int, one: str, many: str | None = None) -> str:
    return f"{count(n)} {one if n == 1 else (many or one + 's')}"


def status_parts(snapshot: SyncSnapshot, now: datetime) -> list[str]:
    """``["Synced 3 min ago", "2 pending", "1 needs attention"]`` and the like."""
    if snapshot.syncing:
        head = "Syncing…"
    elif snapshot.online is False:
        head = "Offline"
    elif snapshot.last_sync_at is not None:
        head = f"Synced {ago(snapshot.last_sync_at, now)}"
    else:
        head = "Not synced yet"
    parts = [head]
    if snapshot.pending:
        parts.append(f"{count(snapshot.pending)} pending")
    if snapshot.attention:
        parts.append(f"{count(snapshot.attention)} need{'s' if snapshot.attention == 1 else ''} attention")
    return parts


def status_text(snapshot: SyncSnapshot, now: datetime) -> str:
    return " · ".join(status_parts(snapshot, now))
