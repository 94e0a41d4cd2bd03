"""Synthetic spine studies with exact ground truth (SYNTHETIC PHANTOM - NOT FOR CLINICAL USE).

``generate(kind, out_dir, seed)`` writes ``out_dir/<kind>-<seed:05d>/`` with one sub-folder per
series (``S01_sagittal_t2/IM00001.dcm`` ...) and ``ground_truth.json``; the same seed always
gives byte-identical files. Kinds:

``lumbar-mr``
    A 3D analytic lumbar spine (T11..S1 plus fused S2-S4, discs, canal, posterior elements,
    muscles, fat) sampled on: a sagittal T2 series; one series of angled axial T2 stacks (3-5
    slices parallel to each disc L1-L2..L5-S1); one straight axial T2 stack from L1 to S1.
    :class:`MrOptions` (below) change the field of view, the lumbar count and the contrasts.
``lumbar-ct``
    The same kind of anatomy as an axial CT volume in HU (RescaleIntercept -1024) from T12 to S1,
    plus ``labels.nii.gz`` (same geometry) whose values are listed in ``label_map.values``.
``spine-xr``
    An AP radiograph (CR, or DX For Presentation; sometimes MONOCHROME1) of T10..sacrum with a
    scoliotic curve of known Cobb angle and, in some studies, pedicle screws, rods and a cage.

Vertebral compression fractures (:mod:`spineviewer.phantom.fractures`):
``generate(..., fracture_rate=R, fractures=["L1:wedge:2", ...])`` breaks each vertebra with
chance ``R`` (T12..L5 on MR and CT, T10..L5 on XR) and the named ones (``LABEL:KIND[:GRADE]``
or ``LABEL:KIND:LOSS``), deterministically per seed; the other draws do not change. ``wedge``:
planar endplates, the anterior height ``h * (1 - loss)``, the posterior intact, the spine above
turned forward by the wedge angle; ``crush``: the whole body ``h * (1 - loss)``, the spine
shorter; ``biconcave``: both endplates dished to ``h * (1 - loss)`` at the centre, intact rim,
the discs filling the hollows. The deformed body is the anatomy's, so every MR and CT series
and the label map show it; the AP radiograph shows crush fractures only (a lower body). Losses
are drawn inside the Genant ranges: grade 1 20-25 %, grade 2 25-40 %, grade 3 > 40 %. Without
either option a study is byte-identical to one generated before fractures existed.

Lumbar MR options (:mod:`spineviewer.phantom.mr_options`):
``generate("lumbar-mr", ..., mr_options=MrOptions(sagittal_fov=..., lumbar_vertebrae=...,
sagittal_contrasts=..., profile=..., series=...))``. The defaults (``"full"``, 5, ``("T2",)``,
``"standard"``, all series) give the study of before the options; the same seed and options
always give the same study, and an option leaves the draws of the others alone (a ``T10-L5``
study is the ``full`` spine of its seed with T9 and T10 added on top, an ``L6`` study that
spine with one more lumbar vertebra). A study with options is another study of the same
patient: its study, frame of reference, series and image UIDs are its own (the default study
keeps today's).

- ``sagittal_fov``: ``"full"`` (about 320 mm centred on T12..S1: T11..S1 and the sacrum);
  ``"T10-L5"`` (the anatomy gains T9 and T10; the first row lies between T9's centre and T10's
  top, the last row 1.5-3 mm above the highest point of the S1 body, so no S1 body pixel is in
  any sagittal slice; the lower front corner of L5 may be cut); ``"L2-S1"`` (the first row 1-3
  mm above L2, below the L1-L2 disc's centre; the last 10-30 mm below S1: L1 is not shown);
  ``"T10-S1"`` (the top of ``T10-L5``, the bottom of ``L2-S1``); ``"L1-S1"`` (the first row
  1-3 mm above L1, below the T12-L1 disc's centre; the bottom of ``L2-S1``).
  The cut fields keep the pixel size near the drawn 0.8-1.1 mm and fit a square matrix (a
  multiple of 16) to the height. Angled axial stacks are written only for the lumbar discs
  whose centre is in the sagittal field of view; the straight stack runs from 4 mm above the
  first such disc's upper body to the centre of the last one's lower body.
- ``lumbar_vertebrae``: 5, or 6 (transitional anatomy: L1..L6 then S1, discs ``L5-L6`` and
  ``L6-S1``; the lumbar discs L1-L2..L6-S1 get states and angled stacks; L6 may fracture).
- ``sagittal_contrasts``: one sagittal series per contrast, numbered in this order on the same
  slices, then the two axial T2 series. Signals (:mod:`spineviewer.phantom.tissues`): T2 as
  before; ``T1`` fat and fatty marrow bright, CSF dark, discs intermediate to dark (darker than
  marrow), muscle intermediate; ``STIR`` fat and marrow dark, CSF and a healthy nucleus bright.
  Headers (:mod:`spineviewer.phantom.contrasts`; ms): T2 ``SAG T2``, ScanningSequence ``SE``,
  SequenceVariant ``SK\\SP``, SequenceName ``tse2d1_17``, TR 3000-5000, TE 85-120; T1 ``SAG
  T1 TSE``, ``SE``, ``SK\\SP``, ``tse2d1_3``, TR 450-700, TE 8-14; STIR ``SAG STIR``,
  ``SE\\IR``, ``SK\\SP\\MP``, ``tir2d1_13``, TR 3500-5500, TE 40-70, InversionTime 140-160
  at 1.5 T and 210-240 at 3 T (STIR only). Each contrast draws its own signal scale and noise;
  the coil's bias field and the field strength are the study's.
- ``series``: which of ``sagittal`` (every sagittal series), ``axial_t2_angled`` and
  ``axial_t2_stack`` to write. The others are placed but not rendered, so a subset is the
  same study's files (UIDs, series numbers, pixels): e.g. the angled stacks alone for
  disc-state crops, three to four times faster.
- ``profile``: ``"standard"``, or ``"wide"`` (``MrOptions.wide()``; below).

Wide lumbar MR profile (:mod:`spineviewer.phantom.wide`, ``--profile wide`` on the command
line): every study is drawn over ranges that cover clinical lumbar MR, deterministically from
its seed (its own random stream: the spine's geometry stays that of the seed's standard study,
disc heights and states aside); field of view, lumbar count and contrasts are drawn, so they
must stay at their defaults with it. Drawn per study:

- what is shown: field of view ``full`` 40 %, ``T10-L5``, ``L2-S1``, ``T10-S1``, ``L1-S1``
  15 % each; six lumbar vertebrae 10 %; sagittal T2 always, T1 50 %, STIR 25 %, in a random
  order (the axial series stay T2);
- each graded disc (L1-L2 down to the lumbosacral disc; :mod:`spineviewer.phantom.discs`):
  its degeneration, a Pfirrmann-like grade 1-5 from the patient's age (20-80) and the level
  (lower discs more), a continuous ``degeneration`` 0-1 inside the grade's band (1: 0-0.12,
  2: 0.12-0.3, 3: 0.3-0.55, 4: 0.55-0.8, 5: 0.8-1), the nucleus signal falling linearly with it
  to a black disc's (T2 0.88 to 0.14 of CSF), a height loss by grade (1: 0-3 %, 2: 0-8 %,
  3: 5-20 %, 4: 15-40 %, 5: 35-60 %); and *then* its contour given the grade: normal / bulge
  / herniation with probabilities from (0.62, 0.18, 0.20) at grade 1 to (0.33, 0.34, 0.33) at
  grade 5, bulge 1.5-5 mm, herniation 3-10 mm, central / left / right (40 / 30 / 30 %), its
  signal 55-100 % of its disc's nucleus; its shape, apart from its state: the axial outline
  from oval to rounded rectangle (superellipse exponent 2-5), a concave posterior margin
  0-3.5 mm deep (a bulge fills 70 % of it), the nucleus 0.42-0.66 of the disc's width, oval to
  rounded rectangle. So bright herniated discs and dark normal ones are
  common, and a disc's nucleus brightness says little about its contour (a one-feature
  classifier on it stays near chance: ``tests/training/test_no_shortcut.py``);
- noise: every series' sigma times one factor, log-uniform 0.5-4; a smooth bias field (three
  plane waves of 250-600 mm, peak 5-40 %) times a posterior coil's fall-off
  ``exp((y - y_canal) / L)``, ``L`` 150-600 mm;
- per series (sagittal, angled axial, straight axial): matrix 256-768 (mostly 256-384), field
  of view (sagittal 260-400 mm tall, axial 160-260 mm), in-plane spacing 0.4-1.5 mm,
  non-square pixels in 30 % (one axis 0.65-0.9 times the other), an acquired resolution
  (sagittal 0.75-1.15 mm, axial 0.6-1.0 mm; never finer than the pixels) on which the image is
  rendered and from which it is linearly interpolated, slice thickness 3-6 mm plus a gap of
  0-25 %, three sub-slices averaged over the thickness (slab averaging); sagittal slices
  covering 45-70 mm (9-21); a cut field of view refits the sagittal rows to its height;
- placement: the sagittal stack 8 mm either side of the midline, 15-30 mm behind the bodies,
  10 mm up or down; the spine 30 mm either side of the axial images' centre.

Not drawn (yet): scoliosis and axial rotation beyond the standard few degrees, sacralised L5,
vertebral shape variants, Modic changes, wrap-around and motion artefacts. The truth of a wide
study has every draw under ``parameters`` (below) and the discs' ``pfirrmann``,
``degeneration`` and ``height_loss``. Generating one takes about 1.6 times a standard study.

ground_truth.json (schema_version 1)
------------------------------------
- ``schema_version`` (1), ``kind``, ``seed``, ``not_for_clinical_use`` (always true),
  ``generator``, ``study_instance_uid``, ``frame_of_reference_uid``, ``patient_id``,
  ``parameters`` (drawn values such as ``lordosis_deg``, noise levels, XR ``pixel_spacing_mm``;
  ``fracture_rate`` when fractures were asked for; for MR studies generated with options other
  than the defaults, all three of ``sagittal_fov`` (text), ``lumbar_vertebrae`` (5 or 6) and
  ``sagittal_contrasts`` (list of text): absent means ``full``, 5, ``["T2"]``; read them with
  ``StudyGroundTruth.mr_options``; ``series`` when a subset was written). Wide studies:
  ``profile`` (``"wide"``), the drawn ``sagittal_fov``, ``lumbar_vertebrae`` and
  ``sagittal_contrasts``, ``age_years``, ``noise_factor``, ``noise_sigma_by_series`` (role ->
  sigma), ``bias_strength``, ``bias_waves_per_mm`` (3 x 3), ``bias_phases``,
  ``coil_falloff_mm``, ``sagittal_lateral_mm``, ``sagittal_ap_mm``, ``sagittal_si_mm``,
  ``axial_lateral_mm``; per series ``sagittal``, ``axial_angled``, ``axial_stack``:
  ``pixel_spacing_mm`` [row, column], ``matrix`` [rows, columns], ``acquired_spacing_mm``,
  ``slice_thickness_mm``, ``slice_gap_mm``, ``sub_slices`` (and sagittal ``slices``); and
  ``discs``: per graded level ``pfirrmann``, ``degeneration``, ``nucleus_t2`` (relative to
  CSF), ``height_loss``, ``state``, ``bulge_mm``, ``herniation_size_mm``,
  ``herniation_side``, ``herniation_signal``).
- ``series``: ``series_instance_uid``, ``folder``, ``description``, ``role`` (``sagittal_t2``,
  ``sagittal_t1``, ``sagittal_stir``, ``axial_t2_angled``, ``axial_t2_stack``, ``ct``,
  ``xr_ap``), ``plane`` (``sagittal``, ``axial``, ``projection``), ``modality``,
  ``sop_class_uid``, ``number_of_images`` and ``images`` (``sop_instance_uid``, ``file``
  relative to the study folder, ``instance_number``); in MR studies with options also
  ``contrast`` (``T2``, ``T1``, ``STIR``; absent, i.e. null, otherwise: every MR series is
  then T2). ``slice_index`` everywhere is the position in ``images``.
- ``vertebrae``: ``label`` (``T11``..``S1`` for MR/CT, ``T10``..``S1`` for XR; MR with options:
  from ``T9`` for ``T10-L5``, ``L6`` when six lumbar vertebrae), ``centre_mm``
  (centre of the vertebral body, patient LPS mm; for XR the detector-plane point
  ``[column * spacing, 0, -row * spacing]``) and ``views``; in studies generated with fractures
  (``parameters.fracture_rate`` present) also ``fracture`` (``wedge``, ``crush``,
  ``biconcave`` or null), ``height_loss`` (``1 - h_min / h_reference``: anterior over posterior
  height for a wedge, centre over rim for biconcave, over the intact height for a crush; 0 when
  whole) and ``genant_grade`` (0-3). Files without these fields load with those defaults.
  MR studies with options also write ``in_sagittal_fov``: whether the body's centre lies inside
  the sagittal field of view (within half a slice step of a slice, inside its rows and
  columns); elsewhere it is absent and reads true (every default study shows all its bodies).
  The anatomy's vertebrae are all listed; ``views`` hold only the slices where a body really
  shows (none for S1 in ``T10-L5``, none for L1 in ``L2-S1``; a body cut by the border, like T9
  at the top of ``T10-L5``, has ``truncated`` views although its centre is outside).
- ``views`` (of vertebrae and discs): ``series_instance_uid``, ``sop_instance_uid``,
  ``slice_index``, ``box_px`` = ``[x_min, y_min, x_max, y_max]`` (x = column, y = row; the
  first and last pixel covered, inclusive, taken from the rendered label image so boxes are
  tight), ``voxel_box`` = ``[x_min, y_min, z_min, x_max, y_max, z_max]`` (CT, z = slice index,
  inclusive), ``tilt_deg`` (XR: endplate angle, counter-clockwise as displayed), ``central``
  (the slice nearest the centre: the mid-sagittal slice of a vertebra, the central slice of a
  disc's stack), ``truncated`` (the box touches the image border). MR vertebra views cover every
  sagittal slice showing the body; disc views cover sagittal and axial slices; boxes are of the
  vertebral body only (MR, XR, CT) and of the whole disc including any herniation.
- ``discs``: ``level`` (``T11-T12``..``L5-S1``), ``state`` (``normal``, ``bulge``,
  ``herniation``; only L1-L2..L5-S1 vary), ``centre_mm`` (midpoint of the two endplate
  centres), ``normal`` (unit vector from the lower to the upper endplate centre),
  ``height_mm``, ``width_mm`` and ``depth_mm`` (mean of the neighbouring bodies; the normal
  disc margin), ``bulge_mm``, ``herniation_mm`` (protrusion beyond the posterior disc
  margin), ``herniation_side`` (``central``, ``left``, ``right``, patient sides), ``views``;
  ``in_sagittal_fov`` as for vertebrae (the disc's centre). Graded discs of wide studies also
  have ``pfirrmann`` (1-5), ``degeneration`` (0-1) and ``height_loss`` (fraction of the disc
  height lost); absent elsewhere (read as null). In the standard profile the nucleus is dark
  exactly when the state is not normal. MR vertebra and disc views cover
  every sagittal series (one per contrast), then the axial ones.
- ``axial_levels`` (MR): per axial image ``series_instance_uid``, ``sop_instance_uid``,
  ``slice_index``, ``stack`` (index of the angled stack, null for the straight stack),
  ``level`` and ``distance_mm``: the nearest disc centre by distance to the image plane, when
  within :func:`spineviewer.geometry.default_threshold` of the disc centres, else null.
- ``implants`` (XR): ``implant_class`` (``pedicle_screw``, ``rod``, ``interbody_cage``),
  ``box_px``, ``series_instance_uid``, ``sop_instance_uid``, ``vertebra`` (or disc level).
- ``cobb`` (XR): ``angle_deg``, ``upper_end_vertebra``, ``lower_end_vertebra``: the largest
  difference of ``tilt_deg`` between two of T10..L5; null for other kinds.
- ``label_map`` (CT): ``file``, ``series_instance_uid``, ``values`` (name -> integer; vertebrae
  include posterior elements, ``S1`` is the whole sacrum, discs by level, ``spinal_canal``).
"""

from spineviewer.phantom.contrasts import CONTRAST_NAMES, CONTRASTS, Contrast
from spineviewer.phantom.fractures import (
    FRACTURE_KINDS,
    Fracture,
    FractureRequest,
    genant_grade,
    parse_fracture,
)
from spineviewer.phantom.mr_options import LUMBAR_COUNTS, PROFILES, SAGITTAL_FOVS, MrOptions
from spineviewer.phantom.study import GENERATORS, KINDS, generate, study_folder_name
from spineviewer.phantom.truth import (
    GROUND_TRUTH_FILE,
    SCHEMA_VERSION,
    AxialLevel,
    CobbTruth,
    DiscTruth,
    ImplantTruth,
    SeriesTruth,
    StudyGroundTruth,
    VertebraTruth,
    View,
    load_ground_truth,
)

__all__ = [
    "CONTRASTS",
    "CONTRAST_NAMES",
    "FRACTURE_KINDS",
    "GENERATORS",
    "GROUND_TRUTH_FILE",
    "KINDS",
    "LUMBAR_COUNTS",
    "PROFILES",
    "SAGITTAL_FOVS",
    "SCHEMA_VERSION",
    "AxialLevel",
    "CobbTruth",
    "Contrast",
    "DiscTruth",
    "Fracture",
    "FractureRequest",
    "ImplantTruth",
    "MrOptions",
    "SeriesTruth",
    "StudyGroundTruth",
    "VertebraTruth",
    "View",
    "genant_grade",
    "generate",
    "load_ground_truth",
    "parse_fracture",
    "study_folder_name",
]
