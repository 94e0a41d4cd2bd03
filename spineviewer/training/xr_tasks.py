"""The AP radiograph models the project trains: what each detects, at which scale, on which
phantoms (data only; :mod:`~spineviewer.training.xr_pipeline` trains and evaluates them,
:mod:`~spineviewer.training.xr_card` writes their manifests and cards).
"""

from __future__ import annotations

from dataclasses import dataclass

from spineviewer.ai.manifest import ModelManifest
from spineviewer.training.tasks import Seeds
from spineviewer.training.xr_data import IMPLANT_CLASSES, TARGET_CLASSES

__all__ = [
    "AP_THRESHOLD",
    "PHANTOM_KIND",
    "VOCABULARY_KEYS",
    "XR_TASKS",
    "XrTask",
    "task_of",
]

PHANTOM_KIND = "spine-xr"
#: Score threshold of the precision-recall curves (the manifest's threshold is for use).
AP_THRESHOLD = 0.05


@dataclass(frozen=True)
class XrTask:
    """One AP radiograph model: what it detects and how it is trained."""

    id: str
    name: str
    target: str
    input_size: tuple[int, int]
    seeds: Seeds
    oriented: bool
    per_class_nms: bool
    epochs: int
    what: str
    intended_use: str
    #: The letterbox's fixed scale (the manifest's ``preprocessing.mm_per_pixel``; None: the
    #: whole image as large as fits).
    mm_per_pixel: float | None = None
    #: Which spine-xr phantoms it learns from: ``standard`` or ``wide``
    #: (:mod:`spineviewer.phantom.xr_wide`).
    profile: str = "standard"
    #: With the wide profile: this fraction of the train and validation seeds also brings its
    #: standard-profile study (the model must keep reading the standard radiographs).
    standard_share: float = 0.0
    #: The package's version (a retrained model with another input gets the next one).
    version: str = "0.1.0"

    @property
    def classes(self) -> tuple[str, ...]:
        return TARGET_CLASSES[self.target]


XR_TASKS: dict[str, XrTask] = {
    "implants-ap": XrTask(
        id="implants-ap",
        name="Spinal implants on AP radiographs (demo, phantom-trained)",
        target="implants",
        # 458 x 352 mm at 1.1 mm per input pixel: a 35 x 43 cm lumbar film at one physical scale
        input_size=(416, 320),
        seeds=Seeds(train=(13_000, 300), val=(23_000, 40), test=(93_000, 100)),
        oriented=False,
        per_class_nms=True,
        epochs=10,
        what="pedicle screws, rods and interbody cages",
        intended_use=(
            "Demonstration of the SpineViewer AI pipeline on phantom studies: metal implants "
            "(pedicle screws, rods, interbody cages) on an AP spine radiograph."
        ),
        mm_per_pixel=1.1,
        profile="wide",
        standard_share=0.5,
        version="0.2.0",
    ),
    "vertebrae-ap": XrTask(
        id="vertebrae-ap",
        name="Vertebral bodies and their tilt on AP radiographs (demo, phantom-trained)",
        target="vertebrae",
        # 480 x 360 mm at 1.25 mm per input pixel: a T8-pelvis field at one physical scale
        input_size=(384, 288),
        seeds=Seeds(train=(14_000, 400), val=(24_000, 40), test=(94_000, 100)),
        oriented=True,
        per_class_nms=False,
        what="vertebral bodies T8 .. L5 and the sacral S1 body, each with its four corners",
        intended_use=(
            "Demonstration of the SpineViewer AI pipeline on phantom studies: vertebral bodies "
            "on an AP spine radiograph, labelled by order, with the endplate tilts that give "
            "the Cobb angle."
        ),
        mm_per_pixel=1.25,
        profile="wide",
        standard_share=0.5,
        epochs=20,
    ),
}
VOCABULARY_KEYS: dict[str, str | None] = {
    "vertebra": None,
    "S1": "S1",
    **{name: name for name in IMPLANT_CLASSES},
}


def task_of(manifest: ModelManifest) -> XrTask:
    """The radiograph task a model package belongs to (by its id, else by its classes)."""
    if manifest.id in XR_TASKS:
        return XR_TASKS[manifest.id]
    names = tuple(label.name for label in manifest.labels)
    for task in XR_TASKS.values():
        if names == task.classes:
            return task
    raise ValueError(f"{manifest.id}: not an AP radiograph model (classes {', '.join(names)})")
