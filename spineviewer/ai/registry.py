"""Finding the installed models: ``NAME.onnx`` with a sidecar ``NAME.json`` or an embedded manifest.

Search order, which is also the rule for two packages of one id (the first usable one wins,
the others are listed as shadowed, with why in :attr:`ModelEntry.choice`):

1. folders the user chose (``--models DIR``, a setting);
2. the user model folder (:func:`user_model_dir`: the ``model_dir`` setting, by default
   ``models`` in the user data folder, ``~/.local/share/spineviewer/models`` on Linux);
3. the bundled ``onnx_models/`` folder: the repository root, ``<prefix>/share/spineviewer``,
   or a PyInstaller bundle, found the way ``spineviewer.resources`` finds ``resources/``.

Among usable packages of one id in the same one of these three, the higher ``version`` wins
(semantic version order; the first found among equal versions).

Each folder is read with its direct subfolders (``models/disc-state/disc-state.onnx``). A model
that cannot be used (broken manifest, missing or changed file, inputs that do not match, a
manifest larger than :data:`~spineviewer.ai.manifest_reader.MAX_MANIFEST_BYTES`) is still
listed, with ``problems`` saying why; finding models never raises.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from spineviewer import config
from spineviewer.ai.manifest import ManifestError, ModelManifest, manifest_from_onnx_metadata
from spineviewer.ai.manifest_reader import too_large
from spineviewer.ai.onnx_file import (
    METADATA_KEY,
    embedded_manifest_size,
    file_problems,
    read_onnx_signature,
    signature_problems,
)

BUNDLED_FOLDER = "onnx_models"

#: Where a model was found, in the order that decides between two packages of one id.
CHOSEN, USER, SHIPPED = "chosen folder", "user folder", "shipped folder"


@dataclass(frozen=True)
class ModelEntry:
    """One model found on disk; usable when ``available``."""

    manifest: ModelManifest | None
    onnx_path: Path
    manifest_path: Path | None  # None: embedded in the ONNX file, or no manifest at all
    problems: tuple[str, ...] = ()
    #: CHOSEN, USER or SHIPPED (set by :func:`find_models`; "" for :func:`load_entry`).
    origin: str = ""
    #: Whether find_models uses it and why: "used (user folder)", "shadowed by PATH (the user
    #: folder wins over the shipped folder)", "older version than PATH (1.0.0 < 1.2.0)",
    #: "not usable"; "" for :func:`load_entry`.
    choice: str = ""

    @property
    def available(self) -> bool:
        return self.manifest is not None and not self.problems

    @property
    def id(self) -> str:
        """The manifest id, or the file stem when there is no readable manifest."""
        return self.manifest.id if self.manifest else self.onnx_path.stem

    @property
    def card_path(self) -> Path | None:
        """The model card ``NAME.md`` beside the model, if there is one."""
        card = self.onnx_path.with_suffix(".md")
        return card if card.is_file() else None


def user_model_dir() -> Path:
    """The ``model_dir`` setting (:mod:`spineviewer.config`): ``$SPINEVIEWER_MODEL_DIR``, the
    config file's ``model_dir``, else ``models`` in the user data folder (platformdirs:
    ``~/.local/share/spineviewer/models`` on Linux; that old Linux place is still read on
    Windows and macOS when the new one does not exist, so installed models stay found)."""
    return config.load().model_dir


def bundled_model_dir() -> Path | None:
    """The shipped ``onnx_models/`` folder, or None when there is none."""
    roots = [
        Path(__file__).resolve().parents[2] / BUNDLED_FOLDER,
        Path(sys.prefix) / "share" / "spineviewer" / BUNDLED_FOLDER,
    ]
    bundle = getattr(sys, "_MEIPASS", None)
    if bundle:
        roots.insert(0, Path(bundle) / BUNDLED_FOLDER)
    return next((root for root in roots if root.is_dir()), None)


def model_dirs(dirs: Iterable[str | Path] = ()) -> list[Path]:
    """The folders searched, in order, without repeats (folders that do not exist included)."""
    return [folder for folder, _ in _ranked_dirs(dirs)]


def _ranked_dirs(dirs: Iterable[str | Path]) -> list[tuple[Path, str]]:
    """:func:`model_dirs` with each folder's origin (the first naming of a folder counts)."""
    bundled = bundled_model_dir()
    ordered = [
        *((Path(d), CHOSEN) for d in dirs),
        (user_model_dir(), USER),
        *([(bundled, SHIPPED)] if bundled else []),
    ]
    unique: dict[Path, tuple[Path, str]] = {}
    for folder, origin in ordered:
        unique.setdefault(folder.expanduser().resolve(), (folder.expanduser(), origin))
    return list(unique.values())


def load_entry(onnx_path: str | Path) -> ModelEntry:
    """Read one model and check it against its manifest; never raises."""
    path = Path(onnx_path)
    sidecar = path.with_suffix(".json")
    manifest_path = sidecar if sidecar.is_file() else None
    try:
        return _load_entry(path, manifest_path)
    except Exception as exc:  # last resort: one odd file must not break the model list
        return ModelEntry(None, path, manifest_path, (f"unexpected error: {exc!r}",))


def _load_entry(path: Path, sidecar: Path | None) -> ModelEntry:
    manifest, problems = _try_load(sidecar) if sidecar else (None, [])
    if not path.is_file():
        return ModelEntry(manifest, path, sidecar, (*problems, f"{path.name} not found"))
    try:
        embedded = too_large(embedded_manifest_size(path))
    except OSError as exc:
        embedded = f"cannot read the file ({exc})"
    if embedded:  # refused before onnxruntime copies it into memory
        problems.append(f"{path.name} (embedded manifest): {embedded}")
        return ModelEntry(manifest, path, sidecar, tuple(problems))
    try:
        signature = read_onnx_signature(path)
    except ValueError as exc:
        problems += file_problems(manifest, path) if manifest else []
        return ModelEntry(manifest, path, sidecar, (*problems, str(exc)))
    if sidecar is None:
        manifest, problems = _try_embedded(path, signature.metadata)
    if manifest is not None:
        problems = file_problems(manifest, path) + signature_problems(manifest, signature)
    return ModelEntry(manifest, path, sidecar, tuple(problems))


def _try_load(sidecar: Path) -> tuple[ModelManifest | None, list[str]]:
    try:
        return ModelManifest.load(sidecar), []
    except ManifestError as exc:
        return None, [str(exc)]


def _try_embedded(path: Path, metadata: dict[str, str]) -> tuple[ModelManifest | None, list[str]]:
    try:
        manifest = manifest_from_onnx_metadata(metadata, f"{path.name} (embedded manifest)")
    except ManifestError as exc:
        return None, [str(exc)]
    if manifest is None:
        return None, [
            f"no manifest: neither {path.stem}.json beside it nor {METADATA_KEY!r} metadata"
        ]
    return manifest, []


def _model_files(folder: Path) -> list[Path]:
    """The ``.onnx`` files of a folder and its subfolders, plus manifests missing their model.

    A JSON file without its model counts as a broken package only at the top level or as
    ``X/X.json``: other JSON in subfolders (evaluation reports, notes) is not a manifest.
    """
    found: list[Path] = []
    for level in (folder, *sorted(p for p in folder.iterdir() if p.is_dir())):
        onnx = sorted(level.glob("*.onnx"))
        manifests = sorted(
            level.glob("*.json") if level == folder else level.glob(f"{level.name}.json")
        )
        orphans = [j.with_suffix(".onnx") for j in manifests]
        found += sorted({*onnx, *orphans})
    return found


def find_models(dirs: Iterable[str | Path] = ()) -> list[ModelEntry]:
    """Every model in the search folders, in search order, except that the usable packages
    of one id found in one origin are listed highest version first (in the places they
    take); the first usable package of an id is used, the others are shadowed (see the
    module docstring). Never raises."""
    entries: list[ModelEntry] = []
    for folder, origin in _ranked_dirs(dirs):
        try:
            files = _model_files(folder) if folder.is_dir() else []
        except OSError:
            continue
        entries += [replace(load_entry(path), origin=origin) for path in files]
    return _mark_shadowed(_newest_first(entries))


def version_key(version: str) -> tuple[object, ...]:
    """A sort key for a semantic version: 1.10.0 > 1.9.0 > 1.9.0-rc.2 > 1.9.0-rc.1; build
    metadata (``+...``) is ignored. Text that is not a version sorts below every version."""
    match = re.fullmatch(r"(\d+)\.(\d+)\.(\d+)(?:-([0-9A-Za-z.-]+))?(?:\+[0-9A-Za-z.-]+)?", version)
    if match is None:
        return (-1,)
    major, minor, patch, pre = match.groups()
    release = (int(major), int(minor), int(patch))
    if pre is None:
        return (*release, 1, ())
    ids = tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in pre.split("."))
    return (*release, 0, ids)


def _version(entry: ModelEntry) -> str:
    return entry.manifest.version if entry.manifest else ""


def _newest_first(entries: list[ModelEntry]) -> list[ModelEntry]:
    """``entries`` with the usable ones of each (origin, id) reordered by descending version
    among their own places (stable: equal versions keep their order)."""
    groups: dict[tuple[str, str], list[int]] = {}
    for i, entry in enumerate(entries):
        if entry.available:
            groups.setdefault((entry.origin, entry.id), []).append(i)
    ordered = list(entries)
    for places in groups.values():
        group = [entries[i] for i in places]
        group.sort(key=lambda e: version_key(_version(e)), reverse=True)
        for i, entry in zip(places, group, strict=True):
            ordered[i] = entry
    return ordered


def _mark_shadowed(entries: list[ModelEntry]) -> list[ModelEntry]:
    winners: dict[str, ModelEntry] = {}
    marked = []
    for entry in entries:
        first = winners.get(entry.id)
        if first is not None:
            problem, choice = _shadowed(entry, first)
            entry = replace(entry, problems=(*entry.problems, problem), choice=choice)
        elif entry.available:
            winners[entry.id] = entry
            entry = replace(entry, choice=f"used ({entry.origin})")
        else:
            entry = replace(entry, choice="not usable")
        marked.append(entry)
    return marked


def _shadowed(entry: ModelEntry, winner: ModelEntry) -> tuple[str, str]:
    """The problem and the choice of ``entry``, shadowed by ``winner`` of the same id."""
    path, mine, theirs = winner.onnx_path, _version(entry), _version(winner)
    if winner.origin != entry.origin:
        problem = f"shadowed by {path} (same id {entry.id!r}, found earlier)"
        return problem, f"shadowed by {path} (the {winner.origin} wins over the {entry.origin})"
    if entry.available and version_key(mine) < version_key(theirs):
        problem = f"shadowed by {path} (same id {entry.id!r}, newer version {theirs})"
        return problem, f"older version than {path} ({mine} < {theirs}, both in the {entry.origin})"
    problem = f"shadowed by {path} (same id {entry.id!r}, found earlier)"
    if entry.available:
        return problem, f"shadowed by {path} (same version {theirs}, found earlier)"
    return problem, f"not usable, and shadowed by {path}"


def best_for(
    task: str,
    modality: str,
    view: str,
    entries: Sequence[ModelEntry] | None = None,
    dirs: Iterable[str | Path] = (),
    *,
    contrast: str | None = None,
    projection: str | None = None,
    body_part: str | None = None,
    strict: bool = False,
    finds: Sequence[str] = (),
) -> ModelEntry | None:
    """The first available model for ``task`` that accepts the series (or None).

    The series is described as :meth:`AppliesTo.mismatch
    <spineviewer.ai.manifest_applies_to.AppliesTo.mismatch>` takes it: ``modality`` and
    ``view`` (a plane, or a ViewPosition code such as "AP"), and where known its ``contrast``,
    ``projection`` and ``body_part``; None is unknown: never accepted by a model restricted to
    some contrasts, accepted for projection and body part unless ``strict``. :func:`why_none`
    says why nothing fits. ``finds``: labels the model must have (two classifiers of one view
    tell apart by them: disc states, fractures). ``entries`` defaults to ``find_models(dirs)``;
    pass a list found earlier to avoid a rescan.
    """
    candidates = find_models(dirs) if entries is None else entries
    series = _Series(modality, view, contrast, projection, body_part, strict, tuple(finds))
    for entry in candidates:
        m = entry.manifest
        if entry.available and m and m.task == task and series.mismatch(m) is None:
            return entry
    return None


def why_none(
    task: str,
    modality: str,
    view: str,
    entries: Sequence[ModelEntry] | None = None,
    dirs: Iterable[str | Path] = (),
    *,
    contrast: str | None = None,
    projection: str | None = None,
    body_part: str | None = None,
    strict: bool = False,
    finds: Sequence[str] = (),
) -> str:
    """Why :func:`best_for` finds no model with the same arguments, one line for "skipped:
    ..." ("no classification model accepts this series: disc-state: model accepts contrast T2,
    series is T1"); empty when it does find one."""
    candidates = find_models(dirs) if entries is None else entries
    series = _Series(modality, view, contrast, projection, body_part, strict, tuple(finds))
    reasons: list[str] = []
    same = [
        e
        for e in candidates
        if e.manifest is not None
        and e.manifest.task == task
        and modality.upper() in (m.upper() for m in e.manifest.applies_to.modality)
    ]  # models for another modality only matter when there is none for this one
    for entry in same or candidates:
        m = entry.manifest
        if m is None or m.task != task:
            continue
        if not entry.available:
            reasons.append(f"{entry.id}: not usable ({entry.problems[0]})")
            continue
        reason = series.mismatch(m)
        if reason is None:
            return ""
        reasons.append(f"{m.id}: {reason}")
    if not reasons:
        return f"no {task} model is installed"
    return f"no {task} model accepts this series: {'; '.join(reasons)}"


@dataclass(frozen=True)
class _Series:
    """What is known of the series a model is sought for (the arguments of best_for)."""

    modality: str
    view: str
    contrast: str | None
    projection: str | None
    body_part: str | None
    strict: bool
    finds: tuple[str, ...] = ()

    def mismatch(self, manifest: ModelManifest) -> str | None:
        wrong_input = manifest.applies_to.mismatch(
            self.modality,
            self.view,
            contrast=self.contrast,
            projection=self.projection,
            body_part=self.body_part,
            strict=self.strict,
        )
        if wrong_input is not None:
            return wrong_input
        missing = [name for name in self.finds if name not in manifest.label_names]
        if missing:
            return f"finds {', '.join(manifest.label_names)}, not {', '.join(missing)}"
        return None


def describe_models(entries: Sequence[ModelEntry]) -> str:
    """Plain text for the About box: each model, whether it can run and why not, and the
    onnxruntime providers of this machine."""
    import onnxruntime

    lines = []
    for e in entries:
        if e.available and e.manifest is not None:
            m = e.manifest
            demo = ", not for clinical use" if m.provenance.not_for_clinical_use else ""
            used = f" [{e.choice}]" if e.choice else ""
            lines.append(f"{m.id} {m.version}: {m.task}, {m.applies_to.describe()}{demo}{used}")
        elif e.choice and e.choice != "not usable" and e.manifest is not None:
            lines.append(f"{e.id} {e.manifest.version}: not used, {e.choice}")
        else:
            lines.append(f"{e.onnx_path.name}: unavailable ({'; '.join(e.problems)})")
    providers = ", ".join(onnxruntime.get_available_providers())
    head = (
        f"onnxruntime {onnxruntime.__version__} (built with {providers}; a model runs on CUDA "
        "only where the GPU and its libraries are present, else on the CPU)"
    )
    return "\n".join([head, *(lines or ["No AI models found."])])
