"""applies_to: every field is checked (modality, view, projection, contrast, body part), a
mismatch says which field and both values, unknown values count only when strict, and older
spellings (``sequence``, an "AP" view) mean what they meant."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from spineviewer.ai import AppliesTo
from spineviewer.ai.manifest_applies_to import (
    CONTRASTS,
    PLANES,
    PROJECTIONS,
    body_parts_fit,
    canonical_body_part,
    split_view,
)

T2_SAGITTAL = AppliesTo(("MR",), ("sagittal",), "LSPINE", contrast=("T2",))
AP_RADIOGRAPH = AppliesTo(("CR", "DX"), ("projection",), "LSPINE", projection=("AP",))

# -- an oracle over combinations ------------------------------------------------------------------

MODALITIES = ("MR", "CT", "CR", "DX")
#: Body parts and the spine regions they cover, written out independently of the module.
REGIONS = {
    "LSPINE": {"L"},
    "CSPINE": {"C"},
    "TSPINE": {"T"},
    "TLSPINE": {"T", "L"},
    "SPINE": {"C", "T", "L", "S", "CO"},
    "CHEST": None,
    "HAND": None,
}


def subsets(options: tuple[str, ...], min_size: int = 0) -> st.SearchStrategy[tuple[str, ...]]:
    return st.lists(st.sampled_from(options), min_size=min_size, unique=True).map(tuple)


def known_or_not(options: tuple[str, ...]) -> st.SearchStrategy[str | None]:
    return st.one_of(st.none(), st.just(""), st.sampled_from(options))


def expected_reason_field(
    model: AppliesTo,
    modality: str,
    view: str,
    contrast: str | None,
    projection: str | None,
    body_part: str | None,
    strict: bool,
) -> str | None:
    """Which field the model refuses first, by the documented rules; None when it fits."""
    if modality not in model.modality:
        return "modality"
    if view not in model.view:
        return "view"
    for field, accepted, value in (
        ("projection", model.projection, projection),
        ("contrast", model.contrast, contrast),
    ):
        unknown_refused = strict or field == "contrast"
        if accepted and ((not value and unknown_refused) or (value and value not in accepted)):
            return field
    if not body_part:
        return "body part" if strict else None
    a, b = REGIONS[model.body_part], REGIONS[body_part]
    fits = bool(a & b) if a is not None and b is not None else model.body_part == body_part
    return None if fits else "body part"


def either(accepted: tuple[str, ...], others: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    """A value the model accepts half the time, so that later fields are reached."""
    return st.one_of(st.sampled_from(accepted), others) if accepted else others


@settings(max_examples=600, deadline=None, derandomize=True)
@given(
    modalities=subsets(MODALITIES, 1),
    views=subsets(PLANES, 1),
    contrasts=subsets(CONTRASTS),
    projections=subsets(PROJECTIONS),
    model_part=st.sampled_from(sorted(REGIONS)),
    strict=st.booleans(),
    data=st.data(),
)
def test_every_field_is_checked_and_the_reason_names_it(
    modalities: tuple[str, ...],
    views: tuple[str, ...],
    contrasts: tuple[str, ...],
    projections: tuple[str, ...],
    model_part: str,
    strict: bool,
    data: st.DataObject,
) -> None:
    modality = data.draw(either(modalities, st.sampled_from(MODALITIES)))
    view = data.draw(either(views, st.sampled_from(PLANES)))
    contrast = data.draw(
        st.one_of(st.sampled_from(contrasts or CONTRASTS), known_or_not(CONTRASTS))
    )
    projection = data.draw(
        st.one_of(st.sampled_from(projections or PROJECTIONS), known_or_not(PROJECTIONS))
    )
    body_part = data.draw(known_or_not(tuple(sorted(REGIONS))))
    model = AppliesTo(modalities, views, model_part, contrasts, projections)
    series = {"contrast": contrast, "projection": projection, "body_part": body_part}
    reason = model.mismatch(modality, view, **series, strict=strict)
    field = expected_reason_field(model, modality, view, contrast, projection, body_part, strict)
    assert model.matches(modality, view, **series, strict=strict) is (reason is None)
    if field is None:
        assert reason is None
        return
    assert reason is not None and reason.startswith(f"model accepts {field} "), reason
    values = {"modality": modality, "view": view, "body part": body_part, **series}
    value = values[field]
    assert reason.endswith(f"series is {value}" if value else f"series {field} is unknown")
    # lower-case input says the same (DICOM values are compared without regard to case)
    lower = {k: v.lower() if v else v for k, v in series.items()}
    assert not model.matches(modality.lower(), view.upper(), **lower, strict=strict)


# -- the rules one by one -------------------------------------------------------------------------


def test_a_t2_model_refuses_t1_and_says_so() -> None:
    assert T2_SAGITTAL.matches("MR", "sagittal", contrast="T2")
    assert T2_SAGITTAL.mismatch("MR", "sagittal", contrast="T1") == (
        "model accepts contrast T2, series is T1"
    )
    assert T2_SAGITTAL.mismatch("MR", "sagittal", contrast="stir") == (
        "model accepts contrast T2, series is stir"
    )
    assert T2_SAGITTAL.mismatch("CT", "sagittal") == "model accepts modality MR, series is CT"
    assert T2_SAGITTAL.mismatch("MR", "axial") == "model accepts view sagittal, series is axial"


def test_an_unknown_contrast_is_never_accepted_an_unknown_body_part_only_when_not_strict() -> None:
    assert T2_SAGITTAL.mismatch("MR", "sagittal") == (
        "model accepts contrast T2, series contrast is unknown"
    )
    assert T2_SAGITTAL.mismatch("MR", "sagittal", contrast=" ") == (
        "model accepts contrast T2, series contrast is unknown"
    )
    assert T2_SAGITTAL.matches("MR", "sagittal", contrast="T2", body_part="")
    assert T2_SAGITTAL.mismatch("MR", "sagittal", contrast="T2", strict=True) == (
        "model accepts body part LSPINE, series body part is unknown"
    )
    assert T2_SAGITTAL.matches("MR", "sagittal", contrast="T2", body_part="LSPINE", strict=True)
    any_contrast = AppliesTo(("MR",), ("sagittal",), "LSPINE")
    assert any_contrast.matches("MR", "sagittal")  # the two-argument call of older callers
    assert any_contrast.matches("MR", "sagittal", contrast=None, body_part="LSPINE", strict=True)
    assert any_contrast.matches("MR", "sagittal", contrast="PD")
    assert AP_RADIOGRAPH.matches("CR", "projection")  # ViewPosition missing: not held against it
    assert AP_RADIOGRAPH.mismatch("CR", "projection", strict=True) == (
        "model accepts projection AP, series projection is unknown"
    )


def test_projections_and_viewposition_codes() -> None:
    assert AP_RADIOGRAPH.matches("DX", "projection", projection="AP")
    assert AP_RADIOGRAPH.matches("cr", "AP")  # a ViewPosition given as the view
    assert AP_RADIOGRAPH.mismatch("CR", "PA") == "model accepts projection AP, series is PA"
    assert AP_RADIOGRAPH.mismatch("CR", "projection", projection="LL") == (
        "model accepts projection AP, series is LL"
    )
    lateral = AppliesTo(("CR",), ("projection",), "SPINE", projection=("lateral",))
    for code in ("LL", "RL", "LATERAL", "lateral"):
        assert lateral.matches("CR", code), code
        assert lateral.matches("CR", "projection", projection=code), code
    assert AP_RADIOGRAPH.mismatch("MR", "sagittal") == (
        "model accepts modality CR or DX, series is MR"
    )
    assert AP_RADIOGRAPH.mismatch("CR", "sagittal") == (
        "model accepts view projection, series is sagittal"
    )
    assert split_view(" Sagittal ") == ("sagittal", None)
    assert split_view("rl") == ("projection", "lateral")
    assert split_view("oblique") == ("oblique", None)


@pytest.mark.parametrize(
    ("model", "series", "fits"),
    [
        ("LSPINE", "LSPINE", True),
        ("LSPINE", "lspine ", True),
        ("LSPINE", "SPINE", True),
        ("LSPINE", "WHOLESPINE", True),
        ("LSPINE", "LSSPINE", True),
        ("LSPINE", "TLSPINE", True),
        ("LSPINE", "WHOLEBODY", True),
        ("LSPINE", "CSPINE", False),
        ("LSPINE", "TSPINE", False),
        ("LSPINE", "SSPINE", False),
        ("LSPINE", "CHEST", False),
        ("LSPINE", "HAND", False),
        ("SPINE", "CSPINE", True),
        ("SPINE", "COCCYX", True),
        ("SPINE", "CHEST", False),
        ("CHEST", "chest", True),
        ("KNEE", "HAND", False),
        # free text as modalities write it: the same term, the same regions
        ("LSPINE", "L-SPINE", True),
        ("LSPINE", "L SPINE", True),
        ("LSPINE", "Lumbar spine", True),
        ("LSPINE", "SPINE LUMBAR", True),
        ("LSPINE", "LUMBAR_SPINE", True),
        ("LSPINE", "Lumbosacral", True),
        ("LSPINE", "Whole Spine", True),
        ("LSPINE", "C-SPINE", False),
        ("LSPINE", "Cervical spine", False),
        ("TSPINE", "thoracolumbar", True),
    ],
)
def test_body_parts_fit_by_the_spine_regions_they_share(
    model: str, series: str, fits: bool
) -> None:
    assert body_parts_fit(model, series) is fits
    applies = AppliesTo(("CR",), ("projection",), model)
    reason = applies.mismatch("CR", "AP", body_part=series)
    assert (reason is None) is fits
    if not fits:
        assert reason == f"model accepts body part {model}, series is {canonical_body_part(series)}"


def test_values_are_kept_canonical_and_older_spellings_read() -> None:
    old = AppliesTo(("MR",), ("Sagittal",), "LSPINE", ("t2", "T2"))  # positional: contrast
    assert old.view == ("sagittal",) and old.contrast == ("T2",)
    assert old.sequence == old.contrast  # the deprecated name
    xr = AppliesTo(("CR",), ("AP", "lateral"), "SPINE")
    assert xr.view == ("projection",) and xr.projection == ("AP", "lateral")
    assert xr == AppliesTo(("CR",), ("projection",), "SPINE", projection=("ap", "LL"))


def test_describe() -> None:
    assert T2_SAGITTAL.describe() == "MR sagittal T2 LSPINE"
    assert AP_RADIOGRAPH.describe() == "CR/DX projection AP LSPINE"


def test_free_text_body_parts_read_as_their_term() -> None:
    assert canonical_body_part(" l-spine ") == "LSPINE"
    assert canonical_body_part("Lumbar spine") == "LSPINE"
    assert canonical_body_part("CERVICAL_SPINE") == "CSPINE"
    assert canonical_body_part("Extremity") == "EXTREMITY"
    assert canonical_body_part("HEAD NECK") == "HEADNECK"  # others: only compacted
