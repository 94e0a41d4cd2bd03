"""How one MR series renders tissue: signal table, noise, coil bias and the protocol it writes."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from pydicom.dataset import Dataset

from spineviewer.phantom.contrasts import CONTRASTS, Contrast
from spineviewer.phantom.imaging import BiasField, rician, smooth, to_uint16
from spineviewer.phantom.painted_volume import Rendered
from spineviewer.phantom.series import Decorator, PixelFunction
from spineviewer.phantom.solids import FloatArray
from spineviewer.phantom.tissues import lookup_table


def _signal_and_noise(rng: np.random.Generator, contrast: Contrast) -> tuple[FloatArray, float]:
    """Signal table (scale 1200-2800, each tissue jittered by up to 8 %) and noise sigma
    (1.5-3.5 % of the scale)."""
    scale = rng.uniform(1200.0, 2800.0)
    signal = dict(contrast.signal)
    table = lookup_table(signal) * rng.uniform(0.92, 1.08, len(signal)) * scale
    return table, float(rng.uniform(0.015, 0.035) * scale)


@dataclass(frozen=True)
class MrLook:
    """How this scanner and coil render one contrast: scale, noise, bias, protocol timings."""

    seed: int
    table: FloatArray
    sigma: float
    bias: BiasField
    repetition_ms: float
    echo_ms: float
    field_t: float
    contrast: Contrast = CONTRASTS["T2"]
    inversion_ms: float | None = None

    @classmethod
    def random(cls, rng: np.random.Generator, seed: int) -> MrLook:
        """T2 with a bias field of up to about 20 % and field strength 1.5 or 3 T."""
        table, sigma = _signal_and_noise(rng, CONTRASTS["T2"])
        return cls(
            seed=seed,
            table=table,
            sigma=sigma,
            bias=BiasField.random(rng, float(rng.uniform(0.05, 0.2))),
            repetition_ms=float(rng.uniform(3000.0, 5000.0)),
            echo_ms=float(rng.uniform(85.0, 120.0)),
            field_t=float(rng.choice([1.5, 3.0])),
        )

    def with_contrast(self, contrast: Contrast, rng: np.random.Generator) -> MrLook:
        """The same scanner and coil (bias, field strength) acquiring ``contrast``.

        Its own scale, tissue jitter, noise and timings are drawn from ``rng``.
        """
        table, sigma = _signal_and_noise(rng, contrast)
        low, high = contrast.repetition_ms
        repetition = float(rng.uniform(low, high))
        low, high = contrast.echo_ms
        echo = float(rng.uniform(low, high))
        inversion = None
        if contrast.inversion_ms is not None:
            low, high = contrast.inversion_ms[self.field_t]
            inversion = float(rng.uniform(low, high))
        return dataclasses.replace(
            self,
            table=table,
            sigma=sigma,
            repetition_ms=repetition,
            echo_ms=echo,
            contrast=contrast,
            inversion_ms=inversion,
        )

    @property
    def window(self) -> tuple[float, float]:
        """Centre at half the window tissue's signal (CSF; fat on T1), width that signal."""
        bright = float(self.table[int(self.contrast.window_tissue)])
        return 0.5 * bright, bright

    def pixel_function(self, series_number: int) -> PixelFunction:
        """``(index, rendered) -> uint16`` for one series (noise seeded per image)."""

        def pixels(index: int, rendered: Rendered) -> NDArray[np.uint16]:
            signal = smooth(self.table[rendered.tissue]) * self.bias.on_plane(rendered.plane)
            rng = np.random.default_rng([self.seed, series_number, index])
            return to_uint16(rician(signal, self.sigma, rng))

        return pixels

    def decorator(self, spacing: float, thickness: float) -> Decorator:
        """Adds the MR image module attributes of this contrast's protocol."""
        contrast = self.contrast
        scanning = list(contrast.scanning_sequence)

        def decorate(ds: Dataset, index: int) -> None:
            ds.ImageType = ["ORIGINAL", "PRIMARY", "OTHER"]
            ds.ScanningSequence = scanning if len(scanning) > 1 else scanning[0]
            ds.SequenceVariant = list(contrast.sequence_variant)
            ds.ScanOptions = ""
            ds.MRAcquisitionType = "2D"
            ds.SequenceName = contrast.sequence_name
            ds.RepetitionTime = f"{self.repetition_ms:.1f}"
            ds.EchoTime = f"{self.echo_ms:.1f}"
            if self.inversion_ms is not None:
                ds.InversionTime = f"{self.inversion_ms:.1f}"
            ds.EchoTrainLength = contrast.echo_train
            ds.EchoNumbers = 1
            ds.NumberOfAverages = 2
            ds.FlipAngle = 150
            ds.ImagedNucleus = "1H"
            ds.MagneticFieldStrength = f"{self.field_t:.1f}"
            ds.ImagingFrequency = f"{42.577478 * self.field_t:.6f}"
            ds.SpacingBetweenSlices = f"{spacing:.4f}"
            ds.BodyPartExamined = "LSPINE"
            ds.ProtocolName = contrast.protocol_name
            ds.SliceThickness = f"{thickness:.4f}"

        return decorate
