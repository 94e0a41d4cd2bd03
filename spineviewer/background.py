"""Background work yields the CPU to the GUI thread.

On a two-core workstation the viewer's GUI thread, the display server, a thread decoding a
volume and the header-reading process can all want a core at once. Background threads and the
header-reading process therefore run at a lower priority (nice 10: while both are runnable the
kernel gives a nice-0 thread about nine times their share, and they still use every idle
cycle). On the 2-core development VM this made no measurable difference to the loading benches,
whose stalls had other causes; it matters when the cores are short. Linux keeps a nice value
per thread; elsewhere Qt's thread priorities do the job.
"""

from __future__ import annotations

import os
import sys
import threading

#: The nice value of background work (0 is normal, 19 the lowest).
BACKGROUND_NICE = 10


def lower_thread_priority(nice: int = BACKGROUND_NICE) -> bool:
    """Run the calling thread at ``nice`` (never raising its priority); False where the
    platform has no per-thread nice value (then nothing changes)."""
    if not sys.platform.startswith("linux"):
        return False  # setpriority would change the whole process, GUI thread included
    thread = threading.get_native_id()
    try:
        if os.getpriority(os.PRIO_PROCESS, thread) < nice:
            os.setpriority(os.PRIO_PROCESS, thread, nice)
    except OSError:
        return False
    return True
