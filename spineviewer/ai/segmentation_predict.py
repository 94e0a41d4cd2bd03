"""One batch of patches through a segmentation network, with test-time mirroring, and what its
outputs mean as labels (numpy and onnxruntime through :class:`~spineviewer.ai.runtime.
ModelSession`).

:func:`predict` feeds normalised patches (N, depth, rows, columns) as the manifest's input
(``mean`` / ``std`` and channels by :func:`~spineviewer.ai.preprocessing.input_tensor`; a 2D
network gets (N, C, rows, columns)), runs them in batches of :func:`batch_size` (a model with a
fixed batch dim always gets that many, the last batch filled with zeros) and returns the
``masks`` output (N, classes, depth, rows, columns) in float32. With ``mirror_axes`` every
combination of those axes is flipped on the way in and back on the way out, and the outputs
averaged (nnU-Net's test-time mirroring: 2^axes runs per patch).

:func:`label_values` and :func:`labels_of` turn blended outputs into a label map: softmax, the
channel of the highest score (channel 0 the background); sigmoid, 1 + the channel of the
highest score among those above ``threshold``, 0 where none is. With the manifest's
``postprocessing`` the label map the viewer gets is the derived one
(:mod:`spineviewer.ai.spine_levels`), and :func:`label_values` names its values.
"""

from __future__ import annotations

import itertools

import numpy as np
from numpy.typing import NDArray

from spineviewer.ai.manifest_model import ModelLabel, ModelManifest, SegmentationDecoding
from spineviewer.ai.preprocessing import input_tensor
from spineviewer.ai.runtime import ModelSession

__all__ = ["batch_size", "label_dtype", "label_values", "labels_of", "mirrorings", "predict"]

FloatArray = NDArray[np.float32]


def batch_size(manifest: ModelManifest) -> int:
    """Patches per run: the manifest's ``batch_size``, else its fixed batch dim, else 2."""
    window = manifest.preprocessing.sliding_window
    fixed = manifest.input.shape[0]
    if window is not None and window.batch_size is not None:
        return window.batch_size
    return fixed if isinstance(fixed, int) else 2


def mirrorings(manifest: ModelManifest) -> list[tuple[int, ...]]:
    """The patch axes flipped in each run of a patch: () first, then every combination."""
    window = manifest.preprocessing.sliding_window
    axes = window.mirror_axes if window is not None else ()
    return [combo for n in range(len(axes) + 1) for combo in itertools.combinations(axes, n)]


def predict(session: ModelSession, patches: FloatArray) -> FloatArray:
    """The ``masks`` output (N, classes, depth, rows, columns) of normalised ``patches``
    (N, depth, rows, columns), averaged over the manifest's mirrorings."""
    manifest = session.manifest
    window = manifest.preprocessing.sliding_window
    assert window is not None
    flat = window.dims == 2
    tensor = input_tensor(manifest, patches[:, 0] if flat else patches)
    runs = mirrorings(manifest)
    total: FloatArray | None = None
    for combo in runs:
        axes = tuple(2 + axis for axis in combo)  # patch axis -> tensor axis (after N, C)
        fed = np.flip(tensor, axes) if axes else tensor
        out = _run(session, np.ascontiguousarray(fed))
        out = np.flip(out, axes) if axes else out
        total = out.copy() if total is None else np.add(total, out, out=total)
    assert total is not None
    if len(runs) > 1:
        total /= np.float32(len(runs))
    return total[:, :, None] if flat else total


def _run(session: ModelSession, tensor: FloatArray) -> FloatArray:
    """``tensor`` through the network in batches; float32 outputs, one per patch."""
    manifest = session.manifest
    decoding = manifest.decoding
    assert isinstance(decoding, SegmentationDecoding)
    name = decoding.tensors["masks"]
    step = batch_size(manifest)
    fixed = isinstance(manifest.input.shape[0], int)
    dtype = np.float16 if manifest.input.dtype == "float16" else np.float32
    outputs = []
    for start in range(0, len(tensor), step):
        batch = tensor[start : start + step].astype(dtype, copy=False)
        count = len(batch)
        if fixed and count < step:  # a fixed batch dim: fill it
            filler = np.zeros((step - count, *batch.shape[1:]), dtype=dtype)
            batch = np.concatenate([batch, filler])
        found = session.session.run([name], {manifest.input.name: batch})[0]
        outputs.append(np.asarray(found, dtype=np.float32)[:count])
    out = np.concatenate(outputs)
    want = (len(tensor), len(manifest.labels), *tensor.shape[2:])
    if out.shape != want:
        raise ValueError(
            f"{manifest.id}: output {name!r} has shape {out.shape} for an input of "
            f"{tensor.shape}; expected {want} (batch, labels, patch)"
        )
    return out


# -- labels ------------------------------------------------------------------------------------


def _decoding(manifest: ModelManifest) -> SegmentationDecoding:
    decoding = manifest.decoding
    if not isinstance(decoding, SegmentationDecoding):
        raise ValueError(f"{manifest.id}: not a segmentation model ({manifest.task})")
    return decoding


def label_values(manifest: ModelManifest) -> dict[int, ModelLabel]:
    """What each value of the label map stands for; 0 (the background) is not included. With
    ``postprocessing`` the derived label map's: value i + 1 is its ``labels[i]``."""
    labels = manifest.labels
    if manifest.postprocessing is not None:
        derived = manifest.postprocessing.spine_levels.labels
        return {value: label for value, label in enumerate(derived, start=1)}
    if _decoding(manifest).activation == "softmax":
        return {value: label for value, label in enumerate(labels) if value > 0}
    return {value + 1: label for value, label in enumerate(labels)}


def label_dtype(manifest: ModelManifest) -> type[np.unsignedinteger]:
    """uint8 when the labels fit, else uint16."""
    return np.uint8 if len(manifest.labels) < 255 else np.uint16


def labels_of(manifest: ModelManifest, scores: FloatArray) -> NDArray[np.unsignedinteger]:
    """The label map of blended outputs ``scores`` (classes, ...); ``scores`` is not changed.

    Sigmoid outputs are compared with the threshold as logits (``log(t / (1 - t))``) when
    they are logits, which is the same test without a probability map."""
    decoding = _decoding(manifest)
    best = np.argmax(scores, axis=0)
    if decoding.activation == "softmax":
        return best.astype(label_dtype(manifest))
    t = decoding.threshold
    if decoding.outputs_are_logits:
        limit = float(np.log(t / (1.0 - t))) if t < 1 else float("inf")
    else:
        limit = t
    top = np.take_along_axis(scores, best[None], axis=0)[0]
    found = np.where(top > limit, best + 1, 0)
    return found.astype(label_dtype(manifest))
