"""Whether a window can be shown here (no Qt import: decided from the environment)."""

from __future__ import annotations

import os
import sys

#: Qt platforms that never show a window on a screen.
HEADLESS_PLATFORMS = ("offscreen", "minimal", "vnc")


def display_problem() -> str | None:
    """Why no window can be shown, in one line; None when a display is available."""
    platform = os.environ.get("QT_QPA_PLATFORM", "").split(":")[0]
    if platform in HEADLESS_PLATFORMS:
        return f"QT_QPA_PLATFORM={platform} shows no window"
    if platform or not sys.platform.startswith("linux"):
        return None
    if not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        return "no display (neither DISPLAY nor WAYLAND_DISPLAY is set)"
    return None
