"""Running a model package with onnxruntime: provider choice, the manifest's channel layout and
normalisation, classification decoding. No Qt, no torch.

Providers: ``auto`` and ``cuda`` ask onnxruntime for CUDA, then the CPU, when CUDA loads here
(:func:`spineviewer.ai.cuda_check.cuda_status`: the CUDA and cuDNN libraries preloaded, the
driver and onnxruntime's CUDA provider library loaded), else for the CPU alone;
:class:`~spineviewer.ai.sessions.SessionCache` says why in a warning naming the missing library.
The provider that actually runs (as onnxruntime reports it, the only truthful record) is kept
on the session and goes into every result.

onnxruntime's own logging stays at errors (its warnings about nodes placed on the CPU are
noise; its errors, a CUDA provider that still fails to load among them, reach stderr).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from spineviewer.ai.cuda_check import CPU, CUDA, cuda_status
from spineviewer.ai.manifest import ModelManifest
from spineviewer.ai.preprocessing import input_tensor

__all__ = ["CPU", "CUDA", "ModelSession", "providers_for"]

#: onnxruntime's log severity for our sessions: 3 = errors (0 verbose ... 4 fatal).
LOG_ERRORS = 3


def providers_for(choice: str = "auto") -> list[str]:
    """onnxruntime providers to ask for: ``auto`` and ``cuda`` (CUDA when it loads here, then
    the CPU), ``cpu``."""
    if choice not in ("auto", "cuda", "cpu"):
        raise ValueError(f"unknown provider choice {choice!r}; expected auto, cpu or cuda")
    if choice == "cpu":
        return [CPU]
    return [CUDA, CPU] if cuda_status().available else [CPU]


class ModelSession:
    """One loaded model: its manifest and an onnxruntime session."""

    def __init__(
        self,
        onnx_path: str | Path,
        manifest: ModelManifest,
        providers: str = "auto",
        threads: int = 0,
    ) -> None:
        import onnxruntime

        options = onnxruntime.SessionOptions()
        options.log_severity_level = LOG_ERRORS
        if threads:
            options.intra_op_num_threads = threads
        # No spinning: the viewer keeps one session per model, and each session's idle
        # workers spun on the cores after its run while the next model (or the numpy steps
        # between runs) needed them. Measured on 2 cores: the lumbar MR pipeline 209 -> 166
        # ms, the spine X-ray pipeline 42 -> 22 ms (bench/bench_pipeline.py).
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self.path = Path(onnx_path)
        self.manifest = manifest
        self.session = onnxruntime.InferenceSession(
            str(self.path), options, providers=providers_for(providers)
        )
        #: What actually runs ("CUDAExecutionProvider" or "CPUExecutionProvider").
        self.provider = self.session.get_providers()[0]

    # -- classification ------------------------------------------------------------------------

    def classify(self, grey: np.ndarray | Sequence[np.ndarray], batch: int = 64) -> np.ndarray:
        """Class probabilities (N, classes) for crops (N, H, W) scaled to [0, 1]."""
        decoding = self.manifest.decoding
        images = np.asarray(grey, dtype=np.float32)
        if images.ndim == 2:
            images = images[None]
        name = self.manifest.input.name
        outputs = []
        for start in range(0, len(images), batch):
            feed = {name: input_tensor(self.manifest, images[start : start + batch])}
            outputs.append(self.session.run(None, feed)[0])
        scores = np.concatenate(outputs) if outputs else np.zeros((0, len(self.manifest.labels)))
        if getattr(decoding, "outputs_are_logits", False):
            activation = getattr(decoding, "activation", "softmax")
            if activation == "softmax":
                shifted = np.exp(scores - scores.max(axis=1, keepdims=True))
                return shifted / shifted.sum(axis=1, keepdims=True)
            if activation == "sigmoid":
                return 1.0 / (1.0 + np.exp(-scores))
        return scores

    @property
    def class_names(self) -> tuple[str, ...]:
        return tuple(label.name for label in self.manifest.labels)
