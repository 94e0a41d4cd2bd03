"""A second, independent generator of synthetic spine studies, for EVALUATION ONLY, and the
scorer of the AI pipelines on it (SYNTHETIC - NOT FOR CLINICAL USE).

No model may ever be trained or tuned on these studies, and the generator must not be changed
to make a model look better: it is the yardstick. It imports neither ``spineviewer.phantom``
nor ``spineviewer.training`` (an import-linter contract in pyproject.toml says so) and shares
no code or model with them:

- anatomy (:mod:`.column`, :mod:`.bones`, :mod:`.disc_shapes`, :mod:`.canal`, :mod:`.trunk`):
  signed-distance functions (:mod:`.sdf`) placed by a kinematic chain from the sacrum up;
  bodies with wedging, waists and dished endplates, posterior arches, discs with annulus,
  nucleus, cleft, bulge and herniation, canal, sac, cord and cauda, the fused sacrum with its
  alae, muscles, fat, viscera, kidneys and vessels;
- disc condition (:mod:`.discs`): degeneration and contour drawn separately, correlated;
- signal (:mod:`.tissues`): relaxation tables and the spin-echo / inversion-recovery equations
  from the sequence's TR / TE / TI (T1, T2, STIR);
- rendering (:mod:`.render`): coverage from the signed distance, integrated over the slice
  profile; then (:mod:`.acquire`) a coil bias field, Rician noise and a receiver gain;
- writing (:mod:`.dicom_file`, :mod:`.truth`): MR Image Storage files with exact geometry and a
  ``ground_truth.json`` in the schema of ``spineviewer.phantom``;
- the case mix (:mod:`.case_mix`) is fixed by the seed, and the protocol (:mod:`.protocol`)
  planned from the anatomy.

Lumbar MR: ``generate_study(out_dir, seed)`` (:mod:`.study`); lumbar CT in HU:
``generate_ct_study(out_dir, seed)`` (:mod:`.ct_study`, its case mix in :mod:`.ct_case_mix`,
CT numbers in :mod:`.ct_tissues`). Both write a label map (:mod:`.label_map`: vertebral
bodies, discs, posterior elements, sacrum, canal; the MR one on the sagittal grid). The scorer
is :mod:`.score`, the label-map scorer :mod:`.score_segmentation`, paired studies with one
acquisition factor changed in :mod:`.invariance`; the command line is ``spineviewer evaluation
generate [--kind lumbar-mr|lumbar-ct]|score|invariance``.
"""

from spineviewer.evaluation.case_mix import KINDS, Case, case_for
from spineviewer.evaluation.ct_study import ct_study_folder_name, generate_ct_study
from spineviewer.evaluation.study import generate_study, study_folder_name
from spineviewer.evaluation.study_kinds import STUDY_KINDS, generate

__all__ = [
    "KINDS",
    "STUDY_KINDS",
    "Case",
    "case_for",
    "ct_study_folder_name",
    "generate",
    "generate_ct_study",
    "generate_study",
    "study_folder_name",
]
