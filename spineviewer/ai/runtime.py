"""Running a model package with onnxruntime: provider choice, the manifest's channel layout and
normalisation, classification decoding. No Qt, no torch.

Providers: ``auto`` tries CUDA and falls back to the CPU; the provider that actually runs (as
onnxruntime reports it, the only truthful record) is kept on the session and goes into every
result.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from spineviewer.ai.manifest import ModelManifest
from spineviewer.ai.preprocessing import input_tensor

CPU = "CPUExecutionProvider"
CUDA = "CUDAExecutionProvider"


def providers_for(choice: str = "auto") -> list[str]:
    """onnxruntime providers to ask for: ``auto`` (CUDA when available, then CPU), ``cpu``,
    ``cuda``."""
    import onnxruntime

    available = onnxruntime.get_available_providers()
    if choice == "cpu":
        return [CPU]
    if choice == "cuda":
        return [CUDA, CPU]
    if choice != "auto":
        raise ValueError(f"unknown provider choice {choice!r}; expected auto, cpu or cuda")
    return [CUDA, CPU] if CUDA in available else [CPU]


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

        # 4 = fatal only: a missing CUDA library is reported by SessionCache in one line, not
        # by onnxruntime's stack of error lines
        onnxruntime.set_default_logger_severity(4)
        options = onnxruntime.SessionOptions()
        options.log_severity_level = 4
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
