"""The models SpineViewer trains and ships, as data: what they see, which phantoms feed them,
their classes and the seeds of their training, validation and held-out test studies.

Seeds of the three sets never overlap, and none of them is a seed the tests or the demo use,
so the held-out metrics in a model card come from studies the model has never seen.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from spineviewer.annotations import default_vocabulary
from spineviewer.phantom.mr_options import MrOptions
from spineviewer.training.augment import Augment
from spineviewer.training.phantom_data import (
    DISC_ROI_MM,
    DISC_SIZE,
    DISC_STATES,
    FRACTURE_CLASSES,
    VERTEBRA_ROI_MM,
    VERTEBRA_SIZE,
    Sample,
    disc_samples,
    options_folder,
    sagittal_disc_samples,
    vertebra_samples,
)


@dataclass(frozen=True)
class Seeds:
    """First seed and count of each set (ranges never overlap)."""

    train: tuple[int, int]
    val: tuple[int, int]
    test: tuple[int, int]

    def ranges(self) -> dict[str, range]:
        return {name: range(a, a + n) for name, (a, n) in vars(self).items()}


@dataclass(frozen=True)
class ClassificationTask:
    """A crop classifier trained on phantoms."""

    id: str
    name: str
    phantom_kind: str
    classes: tuple[str, ...]
    build: Callable[[Path], list[Sample]]
    roi_mm: tuple[float, float]
    size: tuple[int, int]
    modality: tuple[str, ...]
    view: tuple[str, ...]
    body_part: str
    seeds: Seeds
    augment: Augment = field(default_factory=Augment)
    sequence: tuple[str, ...] = ()
    description: str = ""
    #: Phantom options (a fracture rate, lumbar MR options such as the wide profile); such
    #: phantoms live in a folder named after the task.
    fracture_rate: float = 0.0
    mr_options: MrOptions | None = None
    #: A top-class probability (calibrated) below this reports the finding as uncertain.
    min_confidence: float | None = None
    #: What one structure is (crops of the same study and group are fused per structure).
    unit: str = "structure"

    def phantom_dir(self, root: Path) -> Path:
        """Where this task's phantoms are generated under ``root`` (tasks asking for the same
        lumbar MR options share them)."""
        base = root / self.id if self.fracture_rate else root
        return options_folder(base, self.mr_options)

    def labels(self) -> list[dict[str, Any]]:
        """Manifest labels with display names, colours and codes from the vocabulary."""
        vocabulary = default_vocabulary()
        out = []
        for name in self.classes:
            known = vocabulary.state(name) or vocabulary.get(name)
            entry: dict[str, Any] = {
                "name": name,
                "display": known.meaning if known else name.capitalize(),
                "color": known.color if known else "#e6e1c5",
            }
            if known is not None and known.code is not None:
                code = known.code
                entry["code"] = {
                    "scheme": code.scheme,
                    "value": code.value,
                    "meaning": code.meaning,
                }
            out.append(entry)
        return out


DISC_STATE = ClassificationTask(
    id="disc-state",
    name="Lumbar disc state on axial T2 (demo, phantom-trained)",
    phantom_kind="lumbar-mr",
    classes=DISC_STATES,
    build=disc_samples,
    roi_mm=DISC_ROI_MM,
    size=DISC_SIZE,
    modality=("MR",),
    view=("axial",),
    sequence=("T2",),
    body_part="LSPINE",
    seeds=Seeds(train=(30_000, 300), val=(40_000, 40), test=(95_000, 40)),
    # Wide profile: degeneration (nucleus signal, height) drawn apart from the contour, every
    # pixel grid, noise level, bias and tissue signal drawn per study; only the axial series
    # (angled through each disc, and the straight stack).
    mr_options=MrOptions.wide(series=("axial_t2_angled", "axial_t2_stack")),
    augment=Augment(intensity_scale=0.3, gamma=0.4, noise_sigma=0.06, blur_sigma=1.2),
    min_confidence=0.55,
    unit="disc",
    description=(
        "Classifies a 56 x 56 mm axial crop centred on a lumbar disc as normal, bulge or "
        "herniation (the ROI technique of the seed papers), by its contour, whatever its "
        "degeneration."
    ),
)

DISC_STATE_SAGITTAL = ClassificationTask(
    id="disc-state-sagittal",
    name="Lumbar disc state on sagittal T2 (demo, phantom-trained)",
    phantom_kind="lumbar-mr",
    classes=DISC_STATES,
    build=sagittal_disc_samples,
    roi_mm=DISC_ROI_MM,
    size=DISC_SIZE,
    modality=("MR",),
    view=("sagittal",),
    sequence=("T2",),
    body_part="LSPINE",
    # The sagittal detector's wide phantoms (the same studies, another task).
    seeds=Seeds(train=(13_000, 200), val=(23_000, 20), test=(93_000, 40)),
    mr_options=MrOptions.wide(series=("sagittal",)),
    # Anterior-posterior matters (the contour bulges backwards); no flips.
    augment=Augment(
        intensity_scale=0.3, gamma=0.4, noise_sigma=0.06, blur_sigma=1.2, flip_horizontal=False
    ),
    min_confidence=0.55,
    unit="disc",
    description=(
        "Classifies a 56 x 56 mm sagittal crop centred on a lumbar disc as normal, bulge or "
        "herniation; the slices within 12 mm of the disc centre are averaged. For studies "
        "without an axial slice through a disc: its states are marked as from the sagittal view."
    ),
)

VERTEBRA_FRACTURE = ClassificationTask(
    id="vertebra-fracture",
    name="Vertebral compression fracture on sagittal T2 (demo, phantom-trained)",
    phantom_kind="lumbar-mr",
    classes=FRACTURE_CLASSES,
    build=vertebra_samples,
    roi_mm=VERTEBRA_ROI_MM,
    size=VERTEBRA_SIZE,
    modality=("MR",),
    view=("sagittal",),
    sequence=("T2",),
    body_part="LSPINE",
    seeds=Seeds(train=(14_000, 80), val=(24_000, 12), test=(94_000, 30)),
    # Wide profile, sagittal series only (T2 crops; T1 and STIR are left out).
    mr_options=MrOptions.wide(series=("sagittal",)),
    # Anterior-posterior matters (wedges); up-down flips would turn a vertebra upside down.
    augment=Augment(
        intensity_scale=0.3, gamma=0.4, noise_sigma=0.06, blur_sigma=1.2, flip_horizontal=False
    ),
    description=(
        "Classifies a 48 x 48 mm sagittal crop centred on a T12-L5 vertebral body as normal or "
        "fractured (wedge, crush or biconcave compression; seed 004's fracture task brought to "
        "the spine)."
    ),
    fracture_rate=0.3,
    unit="vertebra",
)

TASKS: dict[str, ClassificationTask] = {
    t.id: t for t in (DISC_STATE, DISC_STATE_SAGITTAL, VERTEBRA_FRACTURE)
}


def task(task_id: str) -> ClassificationTask:
    """The task called ``task_id``; KeyError naming the known ones."""
    try:
        return TASKS[task_id]
    except KeyError:
        raise KeyError(f"unknown task {task_id!r}; known: {', '.join(TASKS)}") from None
