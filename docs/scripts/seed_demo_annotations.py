"""Put the demo phantom's ground truth into the annotation workspace, for the screenshot of
annotations (``./bootstrap.sh screenshots``).

Vertebra boxes and discs (with their true state) on the central sagittal image, and an L1-L5
distance, all marked as made by "phantom ground truth". Run with SPINEVIEWER_WORKSPACE set to
a scratch folder: it writes the demo study's document there.

    python docs/scripts/seed_demo_annotations.py [DEMO_FOLDER]   (default: the demo's cache)
"""

from __future__ import annotations

import sys
from pathlib import Path

from spineviewer.annotations import Annotation, AnnotationDocument, ImageRef, Provenance, Workspace
from spineviewer.cli.demo import default_demo_dir, ensure_demo_study
from spineviewer.dicom import scan

AUTHOR = "phantom ground truth"


def main(out: Path) -> int:
    study_dir, truth = ensure_demo_study(out)
    study = scan(study_dir).studies[0]
    sagittal = study.series[0].stacks[0]
    index = len(sagittal) // 2
    frame = sagittal.frames[index]
    ref, plane = ImageRef.of_frame(frame), sagittal.plane_of(index)
    uid = frame.instance.sop_instance_uid
    made = Provenance(author=AUTHOR)
    doc = AnnotationDocument(
        study.uid,
        patient_id=study.info.get("PatientID"),
        patient_name=study.info.get("PatientName"),
        study_date=study.info.get("StudyDate", ""),
        study_description=study.info.get("StudyDescription", ""),
        source_paths=[study_dir],
        author=AUTHOR,
    )
    marks = [("rectangle", v.label, None, v.views) for v in truth.vertebrae]
    marks += [("ellipse", d.level, d.state, d.views) for d in truth.discs]
    for kind, label, state, views in marks:
        for view in views:
            if view.sop_instance_uid == uid and view.box_px is not None:
                x0, y0, x1, y1 = view.box_px
                corners = [(y0, x0), (y1, x1)]
                doc.add(
                    Annotation.create(
                        kind, ref, corners, plane, label=label, state=state, provenance=made
                    )
                )
    centres = {v.label: v.centre_mm for v in truth.vertebrae}
    if "L1" in centres and "L5" in centres and plane is not None:
        ends = [tuple(float(x) for x in plane.to_pixel(centres[k])) for k in ("L1", "L5")]
        doc.add(Annotation.create("line", ref, ends, plane, provenance=made))
    with Workspace() as workspace:
        workspace.save(doc)
        print(f"{len(doc)} annotations of {study.uid} in {workspace.root}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(Path(sys.argv[1]) if len(sys.argv) > 1 else default_demo_dir()))
