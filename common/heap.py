"""Start-up's objects out of the cyclic garbage collector's sight.

A full collection walks every object the collector tracks. A process that has loaded its modules,
mappers, compiled statements and screens holds some 150,000–200,000 of them, and a full
collection over those took 50–90 ms on the desktop with a 1M-product store open (bench_desktop,
stop 25: one landed inside a filter keystroke, 116–137 ms against ~25 ms without it). Frozen
(``gc.freeze``) once start-up is over, they are never walked again; later collections walk only
what was made since. Objects frozen here stay for the process's life, as start-up's objects do
anyway. The server does it once ready to serve (``sync_server.writes.settle_heap``), the desktop
once the main window is up (``desktop.app``).
"""

from __future__ import annotations

import gc


def settle_heap() -> None:
    """Collect what start-up left as garbage, then freeze every object that remains.

    Called again (the desktop once the window of another organization is up), what the call
    before froze is looked at again first: a frozen object is never collected, so the objects
    of a window closed since, held in reference cycles, would otherwise stay for good."""
    gc.unfreeze()
    gc.collect()
    gc.freeze()
