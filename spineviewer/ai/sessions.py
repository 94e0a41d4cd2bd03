"""One onnxruntime session per model, loaded once, warmed up, and the provider it really uses.

The provider choice comes from the caller (``--provider``, a setting), else the
``SPINEVIEWER_PROVIDER`` environment variable, else ``auto`` (CUDA when onnxruntime offers it,
then the CPU). onnxruntime's own messages about missing CUDA libraries are silenced; when the
choice cannot be honoured the cache keeps one plain sentence in :attr:`SessionCache.notices`,
and what actually runs (``session.get_providers()``) is recorded with every result.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

import numpy as np

from spineviewer.ai.registry import ModelEntry
from spineviewer.ai.runtime import CPU, CUDA, ModelSession

__all__ = ["PROVIDERS", "PROVIDER_ENV", "SessionCache", "chosen_provider", "short_provider"]

PROVIDER_ENV = "SPINEVIEWER_PROVIDER"
PROVIDERS = ("auto", "cuda", "cpu")


def chosen_provider(choice: str | None = None) -> str:
    """The provider choice in force: ``choice``, else $SPINEVIEWER_PROVIDER, else ``auto``."""
    value = (choice or os.environ.get(PROVIDER_ENV) or "auto").strip().lower()
    if value not in PROVIDERS:
        raise ValueError(f"unknown provider {value!r}; choose one of {', '.join(PROVIDERS)}")
    return value


def short_provider(name: str) -> str:
    """``CUDAExecutionProvider`` -> ``cuda``."""
    return {CUDA: "cuda", CPU: "cpu"}.get(name, name.removesuffix("ExecutionProvider").lower())


def _threads() -> int:
    """Intra-op threads: the machine's cores, at most 8 (more rarely helps these models)."""
    return max(1, min(8, os.cpu_count() or 1))


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
                session = ModelSession(entry.onnx_path, entry.manifest, self._ask, self.threads)
                self._warm_up(session)
                self._note_provider(session)
                self._sessions[key] = session
        return session

    def _warm_up(self, session: ModelSession) -> None:
        spec = session.manifest.input
        shape = [d if isinstance(d, int) else 1 for d in spec.shape]
        session.session.run(None, {spec.name: np.zeros(shape, dtype=np.float32)})

    def _note_provider(self, session: ModelSession) -> None:
        if self.choice == "cpu" or session.provider == CUDA:
            return
        import onnxruntime

        offered = CUDA in onnxruntime.get_available_providers()
        if self.choice == "cuda" or offered:
            why = "its libraries or GPU are missing" if offered else "onnxruntime has no CUDA"
            notice = f"CUDA is not available ({why}): models run on the CPU"
            # Asked for CUDA: a warning in every result. "auto" falling back to the CPU is
            # what auto means: each result records the provider, no warning repeats it.
            if self.choice == "cuda" and notice not in self.notices:
                self.notices.append(notice)
            self._ask = "cpu"

    @property
    def provider(self) -> str:
        """What the loaded sessions run on (``cuda``, ``cpu``, both joined), or ``none``."""
        used = sorted({short_provider(s.provider) for s in self._sessions.values()})
        return "+".join(used) if used else "none"
