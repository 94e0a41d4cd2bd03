"""One viewer on one series under its own Xvfb: first image, whole series scrollable, the
frame time of 100 slices stepped with keys, and the peak RSS of its process tree."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import psutil
from numpy.typing import NDArray

from .capture import (
    BODY_BAND,
    FIRST_IMAGE_PIXELS,
    LAST_SLICE_GAIN,
    RootCapture,
    XServer,
    band_centre,
    band_count,
    image_like_count,
)
from .viewers import Viewer

#: Seconds between captures (the loop's own cost comes on top: the rate reached is reported).
INTERVAL_S = 0.05
#: Pixels of continuous grey tones for "an image is shown" on the MR (no known band there).
MR_IMAGE_PIXELS = 5_000
SCROLL_STEPS = 100
EXTRA_PRESSES = 20


@dataclass
class Timeouts:
    first_image_s: float = 90.0
    #: Give up on the first image when the screen has shown a window and not changed since.
    idle_s: float = 15.0
    scrollable_s: float = 90.0
    settle_s: float = 1.5
    scroll_s: float = 60.0


@dataclass
class Run:
    viewer: str
    series: str
    status: str = "not run"
    reason: str | None = None
    first_image_s: float | None = None
    whole_series_scrollable_s: float | None = None
    scrollable_how: str | None = None
    scroll_frame_ms: float | None = None
    scroll_note: str | None = None
    peak_rss_mb: float = 0.0
    captures: int = 0
    capture_hz: float = 0.0
    band_pixels_at_first_image: int | None = None
    most_band_pixels_before_image: int = 0
    log_tail: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        out = {k: v for k, v in self.__dict__.items() if v not in (None, {}, "")}
        out.update(out.pop("extra", {}))
        return out


class _Session:
    """The viewer's process group, its display and the capture loop's bookkeeping."""

    def __init__(self, viewer: Viewer, shots: Path | None) -> None:
        self.viewer = viewer
        self.server = XServer.start()
        self.capture = RootCapture(self.server.display)
        self.shots = shots
        self.log = tempfile.NamedTemporaryFile(  # noqa: SIM115 (closed in close())
            prefix=f"peer-{viewer.name}-", suffix=".log"
        )
        env = dict(os.environ, DISPLAY=self.server.display, **viewer.env)
        if "QT_QPA_PLATFORM" not in viewer.env:
            env.pop("QT_QPA_PLATFORM", None)
        assert viewer.argv is not None
        self.started = time.perf_counter()
        self.process = subprocess.Popen(viewer.argv, env=env, stdout=self.log,
                                        stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                        start_new_session=True)  # fmt: skip
        self.peak_rss = 0
        self.count = 0
        self.last: NDArray[np.uint8] | None = None
        self.capture_seconds = 0.0

    def now(self) -> float:
        return time.perf_counter() - self.started

    def grab(self) -> NDArray[np.uint8]:
        t = time.perf_counter()
        image = self.capture.grab()
        self.count += 1
        self._rss()
        self.last = image
        spent = time.perf_counter() - t
        self.capture_seconds += spent
        return image

    def pace(self, since: float) -> None:
        left = INTERVAL_S - (time.perf_counter() - since)
        if left > 0:
            time.sleep(left)

    def _rss(self) -> None:
        try:
            root = psutil.Process(self.process.pid)
            total = root.memory_info().rss
            for child in root.children(recursive=True):
                with contextlib.suppress(psutil.Error):
                    total += child.memory_info().rss
        except psutil.Error:
            return
        self.peak_rss = max(self.peak_rss, total)

    def xdotool(self, *args: str) -> str:
        """Run xdotool on this display; its standard output."""
        env = dict(os.environ, DISPLAY=self.server.display)
        done = subprocess.run(["xdotool", *args], env=env, check=False, text=True,
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)  # fmt: skip
        return done.stdout

    def save(self, name: str, image: NDArray[np.uint8] | None) -> None:
        if self.shots is None or image is None:
            return
        from PIL import Image

        self.shots.mkdir(parents=True, exist_ok=True)
        Image.fromarray(image).save(self.shots / f"{name}.png")

    def close(self) -> str:
        for sig in (signal.SIGTERM, signal.SIGKILL):
            try:
                os.killpg(self.process.pid, sig)
            except ProcessLookupError:
                break
            try:
                self.process.wait(5)
                break
            except subprocess.TimeoutExpired:
                continue
        self.capture.close()
        self.server.stop()
        self.log.flush()
        tail = Path(self.log.name).read_text(errors="replace").strip().splitlines()[-3:]
        self.log.close()
        return " | ".join(line.strip()[:200] for line in tail)


def _changed(a: NDArray[np.uint8], b: NDArray[np.uint8], box: tuple[slice, slice]) -> bool:
    return not np.array_equal(a[box], b[box])


def _band_box(image: NDArray[np.uint8]) -> tuple[slice, slice]:
    """The bounding box of the body's grey pixels (where the image is drawn)."""
    low, high = BODY_BAND
    mask = (image.min(axis=-1) >= low) & (image.max(axis=-1) <= high)
    ys, xs = np.nonzero(mask)
    if len(xs) == 0:
        return slice(None), slice(None)
    return slice(int(ys.min()), int(ys.max()) + 1), slice(int(xs.min()), int(xs.max()) + 1)


def measure(viewer: Viewer, folder: Path, series: str, kind: str, slices: int,
            timeouts: Timeouts, shots: Path | None = None) -> Run:  # fmt: skip
    """Run ``viewer`` on ``folder`` (``kind``: "ct" with the known bands, "mr" without)."""
    run = Run(viewer.name, series)
    if not viewer.installed:
        run.status, run.reason = "not installed", "run the bench with --setup (as root)"
        return run
    if viewer.argv is None:
        run.status, run.reason = "cannot open from the command line", viewer.how
        return run
    session = _Session(viewer, shots / f"{viewer.name}-{series}" if shots else None)
    try:
        _first_image(session, run, kind, timeouts)
        if run.first_image_s is not None and kind == "ct":
            _scroll(session, run, viewer, slices, timeouts)
    finally:
        run.peak_rss_mb = round(session.peak_rss / 1024**2, 1)
        run.captures = session.count
        elapsed = session.now()
        run.capture_hz = round(session.count / elapsed, 1) if elapsed > 0 else 0.0
        spent = session.capture_seconds / max(session.count, 1)
        run.extra["capture_ms_mean"] = round(1000 * spent, 1)
        session.save("last", session.last)
        tail = session.close()
        if run.status != "ok":
            run.log_tail = tail
    return run


def _first_image(session: _Session, run: Run, kind: str, timeouts: Timeouts) -> None:
    previous: NDArray[np.uint8] | None = None
    quiet_since: float | None = None
    while True:
        tick = time.perf_counter()
        image = session.grab()
        at = session.now()
        count = band_count(image, BODY_BAND) if kind == "ct" else image_like_count(image)
        wanted = FIRST_IMAGE_PIXELS if kind == "ct" else MR_IMAGE_PIXELS
        if count >= wanted:
            run.first_image_s = round(at, 3)
            run.band_pixels_at_first_image = count
            run.status = "ok"
            session.save("first-image", image)
            return
        run.most_band_pixels_before_image = max(run.most_band_pixels_before_image, count)
        shown = bool(image.any())
        if previous is not None and shown and not _changed(previous, image, (slice(None),) * 2):
            quiet_since = quiet_since if quiet_since is not None else at
        else:
            quiet_since = None
        previous = image
        exited = session.process.poll()
        if exited is not None:
            run.status, run.reason = "no image", f"exited with status {exited} before an image"
            return
        if quiet_since is not None and at - quiet_since > timeouts.idle_s:
            known = session.viewer.known_limits.get("display")
            run.status = "no image"
            run.reason = (f"no image: window unchanged for {timeouts.idle_s:.0f} s"
                          + (f" ({known})" if known else ""))  # fmt: skip
            return
        if at > timeouts.first_image_s:
            run.status, run.reason = "no image", f"no image within {timeouts.first_image_s:.0f} s"
            return
        session.pace(tick)


def _window_ready(session: _Session, viewer: Viewer, run: Run, timeouts: Timeouts) -> bool:
    """Wait until ``viewer.ready_window`` is shown and the image is on screen again (in it):
    the keys that follow go to the window that scrolls. False, with the note, when it never
    comes within the scroll timeout."""
    assert viewer.ready_window is not None
    end = session.now() + timeouts.scrollable_s
    while session.now() < end:
        tick = time.perf_counter()
        if session.xdotool("search", "--onlyvisible", "--name", viewer.ready_window).strip():
            image = session.grab()
            if band_count(image, BODY_BAND) >= FIRST_IMAGE_PIXELS:
                run.extra["ready_window_s"] = round(session.now(), 3)
                return True
        else:
            session.grab()
        session.pace(tick)
    run.scroll_note = f"no window {viewer.ready_window!r} within {timeouts.scrollable_s:.0f} s"
    return False


def _settle(
    session: _Session, box: tuple[slice, slice], quiet_s: float, limit_s: float
) -> float | None:
    """Capture until the image area has not changed for ``quiet_s``: the time of its last
    change (None if it never settled within ``limit_s``)."""
    assert session.last is not None
    reference = session.last
    last_change = session.now()
    end = session.now() + limit_s
    while session.now() < end:
        tick = time.perf_counter()
        image = session.grab()
        if _changed(reference, image, box):
            reference = image
            last_change = session.now()
        elif session.now() - last_change >= quiet_s:
            return last_change
        session.pace(tick)
    return None


def _press(session: _Session, key: str, times: int) -> None:
    """``key`` pressed ``times`` times (``wheel:N``: mouse button N clicked, 4 up, 5 down)."""
    if key.startswith("wheel:"):
        session.xdotool("click", "--delay", "1", "--repeat", str(times), key.split(":")[1])
    elif times == 1:
        session.xdotool("key", key)
    else:
        session.xdotool("key", "--delay", "1", "--repeat", str(times), key)


def _scroll(session: _Session, run: Run, viewer: Viewer, slices: int, timeouts: Timeouts) -> None:
    if viewer.next_key is None:
        run.scroll_note = "no key steps its slices"
        return
    if viewer.ready_window is not None and not _window_ready(session, viewer, run, timeouts):
        return
    image = session.last
    assert image is not None
    centre = band_centre(image, BODY_BAND)
    if centre is not None:  # the pointer over the image, one click: the keys go to it
        session.xdotool("mousemove", str(centre[0]), str(centre[1]), "click", "1")
    image = session.grab()
    box = _band_box(image)
    shown = band_count(image[box], BODY_BAND)
    run.extra["band_pixels_before_last_slice_key"] = shown
    sent = session.now()
    if viewer.last_key is not None:
        _press(session, viewer.last_key, 1)
        run.scrollable_how = f"{viewer.last_key} at the first image"
    else:
        # a few more presses than slices: one lost while the window takes the focus (ImageJ
        # stopped at 497 of 500) must not hide the last slice; the viewers stop at the end
        _press(session, viewer.next_key, slices + EXTRA_PRESSES)
        run.scrollable_how = f"{viewer.next_key} x{slices + EXTRA_PRESSES} from the first image"
    while True:
        tick = time.perf_counter()
        image = session.grab()
        if band_count(image[box], BODY_BAND) >= LAST_SLICE_GAIN * shown:
            run.whole_series_scrollable_s = round(session.now(), 3)
            session.save("last-slice", image)
            run.extra["band_pixels_at_last_slice"] = band_count(image[box], BODY_BAND)
            break
        if session.now() - sent > timeouts.scrollable_s:
            run.scroll_note = f"the last slice was not shown within {timeouts.scrollable_s:.0f} s"
            run.extra["scrollable_via"] = "not reached"
            return
        session.pace(tick)
    if _settle(session, box, timeouts.settle_s, timeouts.scroll_s) is None:
        run.scroll_note = "the image kept changing: no scroll measured"
        return
    assert viewer.previous_key is not None
    before = session.last
    started = session.now()
    _press(session, viewer.previous_key, SCROLL_STEPS)
    keys_sent = session.now() - started
    last_change = _settle(session, box, timeouts.settle_s, timeouts.scroll_s)
    assert before is not None and session.last is not None
    if last_change is None:
        run.scroll_note = f"still changing after {timeouts.scroll_s:.0f} s"
    elif not _changed(before, session.last, box):
        run.scroll_note = f"key {viewer.previous_key} did not change the slice"
    else:
        run.scroll_frame_ms = round(1000 * (last_change - started) / SCROLL_STEPS, 1)
        run.extra["scroll_keys_sent_s"] = round(keys_sent, 3)
        session.save("after-scroll", session.last)
