"""What a model is for (a manifest's ``applies_to``) and whether a series fits it.

Fields, each compared with what the caller knows about the series:

- ``modality``: DICOM modalities (MR, CT, CR, DX...); the series' modality must be one of them.
- ``view``: the plane, one of :data:`PLANES` (sagittal, axial, coronal; ``projection`` for a
  radiograph). Manifests written before ``projection`` existed put the radiograph's projection
  in ``view`` ("AP", "lateral"); such a view is read as the plane ``projection`` plus that
  projection, and so is a caller's view that is a DICOM ViewPosition code (AP, PA, LL, RL).
- ``contrast`` (optional, MR): :data:`CONTRASTS`; absent means any contrast. The deprecated
  ``sequence`` list of older manifests means the same thing.
- ``projection`` (optional, radiographs): :data:`PROJECTIONS`; absent means any projection.
  ViewPosition LL and RL (and LATERAL) are ``lateral``.
- ``body_part``: a DICOM BodyPartExamined term, compared by the spine regions it covers (below).

**Unknown values.** A series attribute the caller passes as None (or empty) is unknown.

- An unknown contrast never satisfies a model restricted to some contrasts: a contrast-specific
  network on another contrast answers with confidence and wrongly (a T2 disc classifier calls
  every T1 disc a herniation), so "I can't" is the only safe answer. The pipelines determine the
  contrast from the DICOM header, so unknown is rare (a header without timing or description).
- An unknown projection or body part is accepted unless the caller passes ``strict=True``:
  BodyPartExamined is often empty and ViewPosition often missing in real studies, and refusing
  them would leave most of those studies unanalysed; the X-ray pipeline checks the body part and
  that a spine is present itself. ``strict`` makes them count as the contrast does.

**Body parts.** The spine terms of DICOM PS3.16 Annex L each cover regions: CSPINE cervical,
TSPINE thoracic, LSPINE lumbar, SSPINE sacral, COCCYX coccygeal; CTSPINE, TLSPINE and LSSPINE
two neighbouring regions; SPINE and WHOLESPINE (and WHOLEBODY) every region. A model's body part
and a series' fit when they share a region: an LSPINE model runs on an LSSPINE, SPINE or
WHOLESPINE series, not on a CSPINE one, and a SPINE model runs on any spine series. Other terms
(CHEST, HAND, KNEE...) fit only the same term, so a lumbar model never runs on a chest or an
extremity radiograph. Terms are compared as :func:`canonical_body_part` writes them (without
regard to case, spaces, hyphens or underscores; "Lumbar spine" is LSPINE); an empty
BodyPartExamined is unknown.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "CONTRASTS",
    "PLANES",
    "PROJECTIONS",
    "AppliesTo",
    "body_parts_fit",
    "canonical_body_part",
    "canonical_contrast",
    "canonical_projection",
    "split_view",
]

#: The planes a ``view`` names; a radiograph's plane is ``projection``.
PLANES = ("sagittal", "axial", "coronal", "projection")
#: MR contrasts a model may be restricted to.
CONTRASTS = ("T1", "T2", "STIR", "PD")
#: Radiograph projections a model may be restricted to.
PROJECTIONS = ("AP", "PA", "lateral")

#: DICOM ViewPosition codes (and projections written as views by older manifests).
_PROJECTION_CODES = {
    "AP": "AP",
    "PA": "PA",
    "LATERAL": "lateral",
    "LAT": "lateral",
    "LL": "lateral",
    "RL": "lateral",
}

_ALL_REGIONS = frozenset({"C", "T", "L", "S", "CO"})
#: BodyPartExamined spine terms and the spine regions each covers.
_SPINE_REGIONS: dict[str, frozenset[str]] = {
    "CSPINE": frozenset({"C"}),
    "TSPINE": frozenset({"T"}),
    "LSPINE": frozenset({"L"}),
    "SSPINE": frozenset({"S"}),
    "COCCYX": frozenset({"CO"}),
    "CTSPINE": frozenset({"C", "T"}),
    "TLSPINE": frozenset({"T", "L"}),
    "LSSPINE": frozenset({"L", "S"}),
    "SPINE": _ALL_REGIONS,
    "WHOLESPINE": _ALL_REGIONS,
    "WHOLEBODY": _ALL_REGIONS,
}


def canonical_contrast(value: str) -> str:
    """``value`` spelled as in :data:`CONTRASTS` ("t2" -> "T2"); other values stripped only."""
    text = value.strip()
    return next((c for c in CONTRASTS if c.casefold() == text.casefold()), text)


def canonical_projection(value: str) -> str:
    """A projection or ViewPosition code spelled as in :data:`PROJECTIONS` ("LL" -> "lateral");
    other values stripped only."""
    text = value.strip()
    return _PROJECTION_CODES.get(text.upper(), text)


def split_view(view: str) -> tuple[str, str | None]:
    """The plane of ``view`` and the projection it implies: ``("sagittal", None)`` for
    "Sagittal", ``("projection", "AP")`` for the ViewPosition "AP"; unknown views unchanged."""
    text = view.strip()
    if text.casefold() in PLANES:
        return text.casefold(), None
    code = _PROJECTION_CODES.get(text.upper())
    return ("projection", code) if code else (text, None)


#: BodyPartExamined as modalities and RIS write it outside PS3.16 (free text, once spaces,
#: hyphens and underscores are gone: "L-SPINE", "Lumbar spine", "SPINE LUMBAR", the German
#: LWS / BWS / HWS) -> the PS3.16 term.
_ALIASES = {
    "LUMBARSPINE": "LSPINE",
    "SPINELUMBAR": "LSPINE",
    "LUMBAR": "LSPINE",
    "LWS": "LSPINE",
    "THORACICSPINE": "TSPINE",
    "SPINETHORACIC": "TSPINE",
    "BWS": "TSPINE",
    "CERVICALSPINE": "CSPINE",
    "SPINECERVICAL": "CSPINE",
    "HWS": "CSPINE",
    "SACRALSPINE": "SSPINE",
    "LUMBOSACRAL": "LSSPINE",
    "LUMBOSACRALSPINE": "LSSPINE",
    "THORACOLUMBAR": "TLSPINE",
    "THORACOLUMBARSPINE": "TLSPINE",
    "CERVICOTHORACIC": "CTSPINE",
    "CERVICOTHORACICSPINE": "CTSPINE",
}


def canonical_body_part(body_part: str) -> str:
    """A BodyPartExamined value as the term it means: upper case without spaces, hyphens and
    underscores ("L SPINE", "l-spine" -> "LSPINE"), common free-text spellings mapped to
    their PS3.16 term ("Lumbar spine" -> "LSPINE"); other values only so compacted."""
    key = "".join(body_part.upper().replace("-", " ").replace("_", " ").split())
    return _ALIASES.get(key, key)


def _term(body_part: str) -> str:
    return canonical_body_part(body_part)


def body_parts_fit(model_part: str, series_part: str) -> bool:
    """Whether a model for ``model_part`` fits a series of ``series_part`` (both known): they
    share a spine region, or they are the same term."""
    a, b = _term(model_part), _term(series_part)
    if a in _SPINE_REGIONS and b in _SPINE_REGIONS:
        return bool(_SPINE_REGIONS[a] & _SPINE_REGIONS[b])
    return a == b


def _either(options: tuple[str, ...]) -> str:
    """The options in words: "A", "A or B", "A, B or C"."""
    return options[0] if len(options) == 1 else f"{', '.join(options[:-1])} or {options[-1]}"


def _among(value: str, options: tuple[str, ...]) -> bool:
    return value.casefold() in {o.casefold() for o in options}


def _unique(values: list[str]) -> tuple[str, ...]:
    seen: dict[str, str] = {}
    for value in values:
        seen.setdefault(value.casefold(), value)
    return tuple(seen.values())


@dataclass(frozen=True)
class AppliesTo:
    """Which images the model is meant for; see the module docstring for the rules.

    Values are kept canonical: views are planes (an older manifest's "AP" view becomes the
    plane ``projection`` plus the projection "AP"), contrasts and projections use the
    spellings of :data:`CONTRASTS` and :data:`PROJECTIONS`. Empty ``contrast`` or
    ``projection``: any.
    """

    modality: tuple[str, ...]
    view: tuple[str, ...]
    body_part: str
    contrast: tuple[str, ...] = ()
    projection: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        views: list[str] = []
        projections = [canonical_projection(p) for p in self.projection]
        for view in self.view:
            plane, implied = split_view(view)
            views.append(plane)
            if implied is not None:
                projections.append(implied)
        object.__setattr__(self, "view", _unique(views))
        object.__setattr__(self, "projection", _unique(projections))
        object.__setattr__(
            self, "contrast", _unique([canonical_contrast(c) for c in self.contrast])
        )

    @property
    def sequence(self) -> tuple[str, ...]:
        """Deprecated name of :attr:`contrast` (what older manifests called ``sequence``)."""
        return self.contrast

    def mismatch(
        self,
        modality: str,
        view: str,
        *,
        contrast: str | None = None,
        projection: str | None = None,
        body_part: str | None = None,
        strict: bool = False,
    ) -> str | None:
        """Why a series does not fit (None when it does), e.g. "model accepts contrast T2,
        series is T1". Every field is checked: modality, view (plane), projection, contrast,
        body part. ``view`` may be a ViewPosition code ("AP"), read as the plane
        ``projection`` with that projection unless ``projection`` is given. None or empty:
        unknown, which fails a contrast restriction always, and a projection or body part
        only when ``strict`` (the module docstring says why)."""
        if not _among(modality, self.modality):
            return f"model accepts modality {_either(self.modality)}, series is {modality}"
        plane, implied = split_view(view)
        if not _among(plane, self.view):
            return f"model accepts view {_either(self.view)}, series is {plane}"
        projection = projection or implied
        for field, accepted, value, canonical in (
            ("projection", self.projection, projection, canonical_projection),
            ("contrast", self.contrast, contrast, canonical_contrast),
        ):
            if not accepted:
                continue
            if not value or not value.strip():
                if strict or field == "contrast":
                    return f"model accepts {field} {_either(accepted)}, series {field} is unknown"
            elif not _among(canonical(value), accepted):
                return f"model accepts {field} {_either(accepted)}, series is {value.strip()}"
        if not body_part or not body_part.strip():
            if strict:
                return f"model accepts body part {self.body_part}, series body part is unknown"
        elif not body_parts_fit(self.body_part, body_part):
            return f"model accepts body part {self.body_part}, series is {_term(body_part)}"
        return None

    def matches(
        self,
        modality: str,
        view: str,
        *,
        contrast: str | None = None,
        projection: str | None = None,
        body_part: str | None = None,
        strict: bool = False,
    ) -> bool:
        """Whether a series fits (see :meth:`mismatch`; case-insensitive)."""
        found = self.mismatch(
            modality,
            view,
            contrast=contrast,
            projection=projection,
            body_part=body_part,
            strict=strict,
        )
        return found is None

    def describe(self) -> str:
        """One line for people: "MR sagittal T2 LSPINE", "CR/DX projection AP LSPINE"."""
        parts = ["/".join(self.modality), "/".join(self.view)]
        parts += ["/".join(v) for v in (self.projection, self.contrast) if v]
        return " ".join([*parts, self.body_part])
