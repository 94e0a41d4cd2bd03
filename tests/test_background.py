"""Background threads run below the GUI thread's priority (Linux: per-thread nice)."""

from __future__ import annotations

import os
import sys
import threading

import pytest

from spineviewer.background import BACKGROUND_NICE, lower_thread_priority


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="per-thread nice is Linux's")
def test_only_the_calling_thread_is_lowered() -> None:
    main_before = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
    seen: dict[str, object] = {}

    def work() -> None:
        seen["lowered"] = lower_thread_priority()
        seen["nice"] = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
        seen["again"] = lower_thread_priority(BACKGROUND_NICE - 5)  # never raised back
        seen["after"] = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())

    worker = threading.Thread(target=work)
    worker.start()
    worker.join()
    assert seen["lowered"] is True
    assert seen["nice"] == max(BACKGROUND_NICE, main_before)
    assert seen["after"] == seen["nice"]
    assert os.getpriority(os.PRIO_PROCESS, threading.get_native_id()) == main_before
