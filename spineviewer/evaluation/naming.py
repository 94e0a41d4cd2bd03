"""How three scanner makers name and describe lumbar spine series (SeriesDescription,
ScanningSequence, SequenceVariant, SequenceName), so the headers vary the way real ones do.

Each entry: contrast / plane -> (description, scanning sequence, sequence variant, sequence name).
The descriptions are the makers' usual protocol names; a reader identifies the contrast from
them and from TR / TE / TI (:mod:`spineviewer.ai.mr_series` does both).
"""

from __future__ import annotations

__all__ = ["VENDORS", "series_words"]

Words = tuple[str, str, str, str]

_SIEMENS: dict[str, Words] = {
    "T2 sagittal": ("t2_tse_sag", "SE", "SK\\SP\\OSP", "*tse2d1_15"),
    "T1 sagittal": ("t1_tse_sag", "SE", "SK\\SP\\OSP", "*tse2d1_3"),
    "STIR sagittal": ("t2_tirm_sag", "IR", "SK\\SP\\MP\\OSP", "*tir2d1_13"),
    "T2 angled": ("t2_tse_tra_discs", "SE", "SK\\SP\\OSP", "*tse2d1_15"),
    "T2 stack": ("t2_tse_tra", "SE", "SK\\SP\\OSP", "*tse2d1_15"),
}
_GE: dict[str, Words] = {
    "T2 sagittal": ("SAG T2 FSE", "SE", "SK\\OSP", "fse-xl"),
    "T1 sagittal": ("SAG T1 FSE", "SE", "SK\\OSP", "fse-xl"),
    "STIR sagittal": ("SAG STIR", "IR", "SK\\OSP", "fse-ir"),
    "T2 angled": ("AX T2 FSE DISCS", "SE", "SK\\OSP", "fse-xl"),
    "T2 stack": ("AX T2 FSE", "SE", "SK\\OSP", "fse-xl"),
}
_PHILIPS: dict[str, Words] = {
    "T2 sagittal": ("T2W_TSE SAG", "SE", "SK", "TSE"),
    "T1 sagittal": ("T1W_TSE SAG", "SE", "SK", "TSE"),
    "STIR sagittal": ("STIR_TSE SAG", "IR", "SK\\MP", "IR_TSE"),
    "T2 angled": ("T2W_TSE TRA DISCS", "SE", "SK", "TSE"),
    "T2 stack": ("T2W_TSE TRA", "SE", "SK", "TSE"),
}
VENDORS: dict[str, dict[str, Words]] = {
    "SIEMENS": _SIEMENS,
    "GE MEDICAL SYSTEMS": _GE,
    "Philips": _PHILIPS,
}


def series_words(vendor: str, key: str) -> Words:
    """(description, scanning sequence, variant, sequence name) of a series for ``vendor``;
    ``key`` is ``"<contrast> sagittal"``, ``"T2 angled"`` or ``"T2 stack"``."""
    return VENDORS[vendor][key]
