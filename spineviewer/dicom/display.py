"""The display half of the DICOM grey-scale pipeline (PS3.3 C.11.2): VOI, then MONOCHROME1.

Input is modality-LUT output (``StackPixels.slice``); output is float32 in [0, 1], where 1 is
shown white. MONOCHROME1 is inverted *after* the VOI step, as the standard requires.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from pydicom.dataset import Dataset
from pydicom.pixels import apply_voi

from spineviewer.dicom.header import Frame

VOI_FUNCTIONS = ("LINEAR", "LINEAR_EXACT", "SIGMOID")
_FLOAT32_MAX = float(np.finfo(np.float32).max)


@dataclass(frozen=True)
class Window:
    """A VOI window: centre and width in modality units, and the VOI LUT function."""

    center: float
    width: float
    function: str = "LINEAR"

    def __post_init__(self) -> None:
        if self.function not in VOI_FUNCTIONS:
            raise ValueError(
                f"VOI LUT function {self.function!r} unknown; expected one of {VOI_FUNCTIONS}"
            )
        if self.function == "LINEAR" and not self.width >= 1.0:
            raise ValueError("window width must be >= 1 for LINEAR (1 is a threshold)")
        if self.function != "LINEAR" and not self.width > 0.0:
            raise ValueError(f"window width must be > 0 for {self.function}")


def apply_window(values: np.ndarray, window: Window) -> np.ndarray:
    """VOI window to [0, 1] (PS3.3 C.11.2.1.2: LINEAR, LINEAR_EXACT, SIGMOID).

    float64 input, or a window beyond the float32 range, is windowed in float64; the result
    is always float32.
    """
    wide = max(abs(window.center), abs(window.width)) > _FLOAT32_MAX
    work = np.dtype(np.float64 if wide or np.asarray(values).dtype == np.float64 else np.float32)
    x = np.asarray(values, dtype=work)
    c, w, half, one = (np.asarray(v, dtype=work) for v in (window.center, window.width, 0.5, 1))
    if window.function == "SIGMOID":
        return np.asarray(1.0 / (1.0 + np.exp(-4.0 * (x - c) / w)), dtype=np.float32)
    if window.function == "LINEAR_EXACT":
        out = (x - c) / w + half
    elif window.width == 1.0:  # PS3.3 C.11.2.1.2.1: width 1 is a threshold at c - 0.5
        return np.asarray(x > c - half, dtype=np.float32)
    else:
        out = (x - (c - half)) / (w - one) + half
    return np.clip(out, 0.0, 1.0, out=out).astype(np.float32, copy=False)


def window_from_frame(frame: Frame) -> Window | None:
    """The first window stored in the frame's header (Window Center/Width), if any."""
    if not frame.window_centers or not frame.window_widths:
        return None
    function = frame.voi_lut_function if frame.voi_lut_function in VOI_FUNCTIONS else "LINEAR"
    try:
        return Window(frame.window_centers[0], frame.window_widths[0], function)
    except ValueError:
        return None


def window_from_data(values: np.ndarray, low_pct: float = 0.5, high_pct: float = 99.5) -> Window:
    """A window spanning the given percentiles of the values (when the header has none).

    NaN and infinite values (a rescale beyond the float range) are left out.
    """
    sample = np.asarray(values)[::4, ::4]
    finite = sample[np.isfinite(sample)]
    if finite.size == 0:
        finite = np.zeros(1)
    lo, hi = (float(v) for v in np.percentile(finite, [low_pct, high_pct]))
    if not hi - lo >= 2.0:  # flat data (at 1e40, lo + 2 == lo)
        return Window(lo + 1.0, 2.0)
    return Window(lo / 2.0 + hi / 2.0, hi - lo)


def default_window(frame: Frame, values: np.ndarray) -> Window:
    """The header window when there is one, else one from the data."""
    return window_from_frame(frame) or window_from_data(values)


def voi_lut_display(values: np.ndarray, voi_lut: Dataset) -> np.ndarray:
    """Apply a VOI LUT Sequence item and scale its output to [0, 1]."""
    ds = Dataset()
    ds.VOILUTSequence = [voi_lut]
    out = np.asarray(apply_voi(np.asarray(values), ds), dtype=np.float32)
    descriptor = voi_lut.LUTDescriptor
    bits = int(descriptor[2])
    top = float((1 << bits) - 1) if bits > 0 else float(np.max(voi_lut.LUTData))
    return np.clip(out / np.float32(top or 1.0), 0.0, 1.0)


def to_display(
    values: np.ndarray,
    frame: Frame,
    window: Window | None = None,
    use_voi_lut: bool = True,
) -> np.ndarray:
    """Grey values in [0, 1] for display, white = 1.

    An explicit ``window`` wins; otherwise the VOI LUT Sequence (when present and
    ``use_voi_lut``), then the header window, then a data window. MONOCHROME1 is inverted
    after the VOI step.
    """
    if window is None and use_voi_lut and frame.instance.voi_lut is not None:
        shown = voi_lut_display(values, frame.instance.voi_lut)
    else:
        shown = apply_window(values, window or default_window(frame, values))
    if frame.instance.photometric == "MONOCHROME1":
        shown = np.float32(1.0) - shown
    return shown
