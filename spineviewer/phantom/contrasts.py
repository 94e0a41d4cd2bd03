"""MR contrasts of the phantom's sagittal series: tissue signals and what DICOM says of them.

Each contrast pairs a signal table (:mod:`spineviewer.phantom.tissues`) with the protocol a
scanner would write: series description, ScanningSequence, SequenceVariant, SequenceName, echo
train, and the ranges RepetitionTime, EchoTime and (STIR only) InversionTime are drawn from.
``T2`` is the protocol every lumbar MR phantom has always had.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from spineviewer.phantom.tissues import STIR_SIGNAL, T1_SIGNAL, T2_SIGNAL, Tissue


@dataclass(frozen=True)
class Contrast:
    """One MR weighting: signals by tissue and its protocol (times in ms)."""

    name: str
    signal: Mapping[Tissue, float]
    description: str
    scanning_sequence: tuple[str, ...]
    sequence_variant: tuple[str, ...]
    sequence_name: str
    echo_train: int
    repetition_ms: tuple[float, float]
    echo_ms: tuple[float, float]
    #: InversionTime range by field strength (tesla); ``None`` without an inversion pulse.
    inversion_ms: Mapping[float, tuple[float, float]] | None = None
    #: The window is centred on half this tissue's signal and as wide as that signal.
    window_tissue: Tissue = Tissue.CSF

    @property
    def role(self) -> str:
        """Ground-truth role of a sagittal series of this contrast (``sagittal_t1`` ...)."""
        return f"sagittal_{self.name.lower()}"

    @property
    def protocol_name(self) -> str:
        """ProtocolName written into the images."""
        return f"L-SPINE {self.name} (synthetic)"


#: Contrasts by name. T2 fast spin echo (today's), T1 fast spin echo, STIR (fat-nulling
#: inversion: TI 140-160 ms at 1.5 T, 210-240 ms at 3 T).
CONTRASTS: dict[str, Contrast] = {
    "T2": Contrast(
        name="T2",
        signal=T2_SIGNAL,
        description="SAG T2",
        scanning_sequence=("SE",),
        sequence_variant=("SK", "SP"),
        sequence_name="tse2d1_17",
        echo_train=17,
        repetition_ms=(3000.0, 5000.0),
        echo_ms=(85.0, 120.0),
    ),
    "T1": Contrast(
        name="T1",
        signal=T1_SIGNAL,
        description="SAG T1 TSE",
        scanning_sequence=("SE",),
        sequence_variant=("SK", "SP"),
        sequence_name="tse2d1_3",
        echo_train=3,
        repetition_ms=(450.0, 700.0),
        echo_ms=(8.0, 14.0),
        window_tissue=Tissue.FAT,
    ),
    "STIR": Contrast(
        name="STIR",
        signal=STIR_SIGNAL,
        description="SAG STIR",
        scanning_sequence=("SE", "IR"),
        sequence_variant=("SK", "SP", "MP"),
        sequence_name="tir2d1_13",
        echo_train=13,
        repetition_ms=(3500.0, 5500.0),
        echo_ms=(40.0, 70.0),
        inversion_ms={1.5: (140.0, 160.0), 3.0: (210.0, 240.0)},
    ),
}
#: Contrast names, in the order of :data:`CONTRASTS`.
CONTRAST_NAMES: tuple[str, ...] = tuple(CONTRASTS)
