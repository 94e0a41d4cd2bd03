"""An Xvfb of its own per viewer, root-window captures through libX11 (ctypes, no extra
package), and the "first image" detector: pixels of a capture in a known grey band.

The grey band is the same for every viewer: the bench's CT has a body of one stored value in
the middle of its stored range, so a viewer that windows by the DICOM window, by the slice's
or volume's minimum and maximum, or by the whole 12-bit range shows it mid-grey.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import subprocess
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

#: A display's size: large enough for every viewer's default window.
SCREEN = (1600, 1000)

#: Grey levels (8-bit, each of R, G and B) of the CT body at the viewers' default windows.
BODY_BAND = (112, 144)
#: Pixels in the band for "an image is shown": more than any splash or empty window shows
#: (at most 1,700 seen; the body is about 100,000 pixels at 1:1, 8,000 in Aeskulap's small
#: default window).
FIRST_IMAGE_PIXELS = 5_000
#: "The last slice is shown": the band's pixels, where the first image was drawn, grow by
#: this factor (its inner disc is body too: a third more).
LAST_SLICE_GAIN = 1.2
#: Grey values within this much of each other count as grey (R = G = B in a greyscale image).
GREY_TOLERANCE = 6


def band_count(rgb: NDArray[np.uint8], band: tuple[int, int]) -> int:
    """Pixels of an (H, W, 3+) capture whose R, G and B all lie in ``band`` (inclusive) and
    differ by at most :data:`GREY_TOLERANCE`: grey pixels of that brightness."""
    low, high = band
    r = rgb[..., 0].astype(np.int16)
    g = rgb[..., 1].astype(np.int16)
    b = rgb[..., 2].astype(np.int16)
    inside = (r >= low) & (r <= high) & (g >= low) & (g <= high) & (b >= low) & (b <= high)
    grey = (np.abs(r - g) <= GREY_TOLERANCE) & (np.abs(g - b) <= GREY_TOLERANCE)
    return int(np.count_nonzero(inside & grey))


def band_centre(rgb: NDArray[np.uint8], band: tuple[int, int]) -> tuple[int, int] | None:
    """(x, y) of the median of the band's pixels (where to point the mouse), None if none."""
    low, high = band
    grey = rgb[..., :3].min(axis=-1) >= low
    grey &= rgb[..., :3].max(axis=-1) <= high
    ys, xs = np.nonzero(grey)
    if len(xs) == 0:
        return None
    return int(np.median(xs)), int(np.median(ys))


def image_like_count(rgb: NDArray[np.uint8], common: int = 16) -> int:
    """Mid-grey pixels (21 to 229) not in the ``common`` most frequent grey levels of the
    capture: the continuous tones of an image (an MR), not the few flat greys of a window's
    chrome nor the light gradients of its toolbars."""
    r = rgb[..., 0].astype(np.int16)
    g = rgb[..., 1].astype(np.int16)
    b = rgb[..., 2].astype(np.int16)
    grey = (np.abs(r - g) <= 2) & (np.abs(g - b) <= 2) & (g > 20) & (g < 230)
    values = rgb[..., 1][grey]
    if values.size == 0:
        return 0
    counts = np.bincount(values, minlength=256)
    top = np.argsort(counts)[-common:]
    return int(values.size - counts[top].sum())


class _XImage(ctypes.Structure):
    _fields_ = [
        ("width", ctypes.c_int),
        ("height", ctypes.c_int),
        ("xoffset", ctypes.c_int),
        ("format", ctypes.c_int),
        ("data", ctypes.POINTER(ctypes.c_ubyte)),
        ("byte_order", ctypes.c_int),
        ("bitmap_unit", ctypes.c_int),
        ("bitmap_bit_order", ctypes.c_int),
        ("bitmap_pad", ctypes.c_int),
        ("depth", ctypes.c_int),
        ("bytes_per_line", ctypes.c_int),
        ("bits_per_pixel", ctypes.c_int),
    ]


_ZPIXMAP = 2
_ALL_PLANES = 0xFFFFFFFF


class RootCapture:
    """Captures of one display's root window as (H, W, 3) RGB arrays (24-bit TrueColor)."""

    def __init__(self, display: str) -> None:
        name = ctypes.util.find_library("X11") or "libX11.so.6"
        self._x = ctypes.CDLL(name)
        self._x.XOpenDisplay.restype = ctypes.c_void_p
        self._x.XOpenDisplay.argtypes = [ctypes.c_char_p]
        self._x.XDefaultRootWindow.restype = ctypes.c_ulong
        self._x.XDefaultRootWindow.argtypes = [ctypes.c_void_p]
        self._x.XGetImage.restype = ctypes.POINTER(_XImage)
        self._x.XGetImage.argtypes = [ctypes.c_void_p, ctypes.c_ulong, ctypes.c_int,
                                      ctypes.c_int, ctypes.c_uint, ctypes.c_uint,
                                      ctypes.c_ulong, ctypes.c_int]  # fmt: skip
        self._x.XDestroyImage.argtypes = [ctypes.POINTER(_XImage)]
        self._x.XCloseDisplay.argtypes = [ctypes.c_void_p]
        self._x.XDisplayWidth.argtypes = [ctypes.c_void_p, ctypes.c_int]
        self._x.XDisplayHeight.argtypes = [ctypes.c_void_p, ctypes.c_int]
        self._display = self._x.XOpenDisplay(display.encode())
        if not self._display:
            raise RuntimeError(f"cannot open display {display}")
        self._root = self._x.XDefaultRootWindow(self._display)
        self.width = int(self._x.XDisplayWidth(self._display, 0))
        self.height = int(self._x.XDisplayHeight(self._display, 0))

    def grab(self) -> NDArray[np.uint8]:
        image = self._x.XGetImage(self._display, self._root, 0, 0, self.width, self.height,
                                  _ALL_PLANES, _ZPIXMAP)  # fmt: skip
        if not image:
            raise RuntimeError("XGetImage failed")
        try:
            info = image.contents
            if info.bits_per_pixel != 32:
                raise RuntimeError(f"{info.bits_per_pixel} bits per pixel: expected 32")
            size = info.bytes_per_line * info.height
            raw = np.ctypeslib.as_array(info.data, shape=(size,))
            rows = raw.reshape(info.height, info.bytes_per_line)[:, : info.width * 4]
            bgrx = rows.reshape(info.height, info.width, 4)
            return np.ascontiguousarray(bgrx[..., 2::-1])  # BGRX (little-endian) -> RGB
        finally:
            self._x.XDestroyImage(image)

    def close(self) -> None:
        if self._display:
            self._x.XCloseDisplay(self._display)
            self._display = None


@dataclass
class XServer:
    """An Xvfb of our own: it picks a free display and says which (``-displayfd``)."""

    process: subprocess.Popen[bytes]
    display: str

    @classmethod
    def start(cls, size: tuple[int, int] = SCREEN) -> XServer:
        read, write = os.pipe()
        process = subprocess.Popen(
            ["Xvfb", "-displayfd", str(write), "-screen", "0", f"{size[0]}x{size[1]}x24",
             "-nolisten", "tcp", "-ac"],
            pass_fds=(write,), stderr=subprocess.DEVNULL,
        )  # fmt: skip
        os.close(write)
        with os.fdopen(read) as answer:
            number = answer.readline().strip()
        if not number or process.poll() is not None:
            raise RuntimeError("Xvfb did not start")
        return cls(process, f":{number}")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(10)
