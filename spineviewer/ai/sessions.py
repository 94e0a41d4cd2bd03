"""One onnxruntime session per model, loaded once, warmed up, and the provider it really uses.

The provider choice comes from the caller (``--provider``, a setting), else the ``provider``
setting of :mod:`spineviewer.config` (``SPINEVIEWER_PROVIDER``, the config file), else ``auto``
(CUDA when it loads here, then the CPU). Before the first session asks for CUDA,
:func:`~spineviewer.ai.cuda_check.cuda_status` checks that its libraries load; when the choice
cannot be honoured the cache keeps one plain sentence in :attr:`SessionCache.notices` (a
warning of every result) naming the missing library and how to get it:

- ``cuda`` on a machine where CUDA does not load, for whatever reason;
- ``auto`` where there is an NVIDIA driver and onnxruntime-gpu but a CUDA or cuDNN library
  (or onnxruntime's CUDA provider) does not load: a workstation whose GPU set-up is broken.
  ``auto`` on a machine without a GPU, or with a CPU-only onnxruntime, runs on the CPU without
  a warning: that is what ``auto`` means (``spineviewer doctor`` says why).

What actually runs (``session.get_providers()``) is recorded with every result; a session
that asked for CUDA and got the CPU all the same is said too.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

import numpy as np

from spineviewer import config
from spineviewer.ai.cuda_check import cuda_status
from spineviewer.ai.registry import ModelEntry
from spineviewer.ai.runtime import CPU, CUDA, ModelSession

__all__ = [
    "PROVIDERS",
    "PROVIDER_ENV",
    "SessionCache",
    "chosen_provider",
    "short_provider",
    "warm_up_shape",
]

PROVIDER_ENV = config.SETTINGS["provider"].env
PROVIDERS = config.PROVIDERS


def chosen_provider(choice: str | None = None) -> str:
    """The provider choice in force: ``choice``, else the ``provider`` setting
    ($SPINEVIEWER_PROVIDER, the config file), else ``auto``. A choice or a variable that is
    no provider raises ValueError (the person running the command named it); a wrong one in
    the config file is a logged warning and ignored."""
    if not choice:
        settings = config.load()
        wrong = [
            p for p in settings.problems if p.setting == "provider" and p.where == PROVIDER_ENV
        ]
        if wrong:
            raise ValueError(f"unknown provider: {wrong[0]}; choose one of {', '.join(PROVIDERS)}")
        return settings.provider
    value = choice.strip().lower()
    if value not in PROVIDERS:
        raise ValueError(f"unknown provider {value!r}; choose one of {', '.join(PROVIDERS)}")
    return value


def short_provider(name: str) -> str:
    """``CUDAExecutionProvider`` -> ``cuda``."""
    return {CUDA: "cuda", CPU: "cpu"}.get(name, name.removesuffix("ExecutionProvider").lower())


def _threads() -> int:
    """Intra-op threads: the machine's cores, at most 8 (more rarely helps these models)."""
    return max(1, min(8, os.cpu_count() or 1))


def warm_up_shape(session: ModelSession) -> list[int]:
    """The zero input a new session is run on once: the input's fixed dims, 1 for a dynamic
    one; a sliding-window model's dynamic spatial dims take its patch size (a network whose
    spatial dims are dynamic, as an nnU-Net export's are, may fail on 1 x 1 x 1: its
    downsampling needs at least one patch)."""
    spec = session.manifest.input
    shape = [d if isinstance(d, int) else 1 for d in spec.shape]
    window = session.manifest.preprocessing.sliding_window
    if window is not None:
        shape[2:] = [int(p) for p in window.patch_size]
    return shape


class SessionCache:
    """Sessions by model file; thread-safe; each warmed up once with a zero input."""

    def __init__(self, provider: str | None = None, threads: int | None = None) -> None:
        self.choice = chosen_provider(provider)
        self.threads = threads or _threads()
        self.notices: list[str] = []
        #: What the next session asks for: the choice, until CUDA failed once (then "cpu").
        self._ask = self.choice
        self._sessions: dict[Path, ModelSession] = {}
        self._lock = threading.Lock()

    def get(self, entry: ModelEntry) -> ModelSession:
        if entry.manifest is None or not entry.available:
            raise ValueError(f"{entry.onnx_path}: model not usable: {'; '.join(entry.problems)}")
        key = entry.onnx_path.resolve()
        with self._lock:
            session = self._sessions.get(key)
            if session is None:
                if self._ask != "cpu":
                    self._check_cuda()
                session = ModelSession(entry.onnx_path, entry.manifest, self._ask, self.threads)
                self._warm_up(session)
                self._note_provider(session)
                self._sessions[key] = session
        return session

    def _warm_up(self, session: ModelSession) -> None:
        spec = session.manifest.input
        dtype = np.float16 if spec.dtype == "float16" else np.float32
        session.session.run(None, {spec.name: np.zeros(warm_up_shape(session), dtype=dtype)})

    def _check_cuda(self) -> None:
        """Before the first session that would ask for CUDA: when CUDA does not load here, ask
        for the CPU from now on and say why (see the module docstring for when)."""
        status = cuda_status()
        if status.available:
            return
        self._ask = "cpu"
        if self.choice == "cuda" or (status.offered and status.has_driver):
            self._notice(status.warning())

    def _note_provider(self, session: ModelSession) -> None:
        """A session that asked for CUDA (it loads here) and runs on the CPU all the same."""
        if self._ask == "cpu" or session.provider == CUDA:
            return
        self._ask = "cpu"
        self._notice(
            f"CUDA is not available (onnxruntime ran {session.path.name} on "
            f"{short_provider(session.provider)}; its error above says why): models run on "
            "the CPU"
        )

    def _notice(self, text: str) -> None:
        if text not in self.notices:
            self.notices.append(text)

    @property
    def provider(self) -> str:
        """What the loaded sessions run on (``cuda``, ``cpu``, both joined), or ``none``."""
        used = sorted({short_provider(s.provider) for s in self._sessions.values()})
        return "+".join(used) if used else "none"
