"""The rows of a report: one disc level, one vertebra, one implant, one measurement (data only).

:class:`~spineviewer.reports.study_report.Report` holds them; the sentences
(:mod:`~spineviewer.reports.sentences`) and the comparison with a prior
(:mod:`~spineviewer.reports.comparison`) read them.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["ImplantRow", "LevelRow", "MeasurementRow", "VertebraRow"]


@dataclass(frozen=True)
class LevelRow:
    """One disc level: the state reported, its probability, its review and key image."""

    level: str
    state: str
    probability: float | None
    review: str
    model_state: str
    key_image: str
    #: The AI's own review need: confident / uncertain / needs review.
    ai_review: str = "confident"
    #: The AI's name of the level when the reader renamed it (shifted the labels); else "".
    ai_level: str = ""
    #: The view the AI's state comes from: "axial", or "sagittal" (no axial slice of it).
    view: str = "axial"
    #: The key image for a person: ``Series 4, image 12`` (``key_image`` is its UID; the
    #: report's technique and :attr:`Report.image_references` give the series description).
    key_image_ref: str = ""


@dataclass(frozen=True)
class VertebraRow:
    label: str
    review: str
    fracture: str | None = None
    fracture_probability: float | None = None
    tilt_deg: tuple[float, float] | None = None
    ai_review: str = "confident"
    #: The series the vertebra was found on, when the study's vertebrae come from several
    #: (a sagittal MR and a radiograph both have an L1); empty otherwise.
    series: str = ""
    #: The AI's label when the reader renamed the body (shifted the labels); else "".
    ai_label: str = ""
    #: Anterior / middle / posterior body heights (mm) and Genant's height loss (a ratio),
    #: when they were measured; why the fracture answer is what it is.
    body_heights_mm: tuple[float, float, float] | None = None
    height_loss: float | None = None
    fracture_reasons: tuple[str, ...] = ()


@dataclass(frozen=True)
class ImplantRow:
    implant_class: str
    score: float
    review: str
    ai_review: str = "confident"


@dataclass(frozen=True)
class MeasurementRow:
    """A measurement a person made (length, angle, Cobb angle, ROI area)."""

    kind: str
    label: str
    value: str
    #: The SOP Instance UID of the image measured on.
    image: str
    #: That image for a person: ``Series 3, image 8``.
    image_ref: str = ""
