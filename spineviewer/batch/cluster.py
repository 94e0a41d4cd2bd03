"""Study jobs on a Dask distributed cluster: ``spineviewer batch --scheduler tcp://HOST:PORT``.

The same :func:`~spineviewer.batch.jobs.run_job` runs on the cluster's workers as in the local
pool; each worker loads the models once and keeps them for its next studies. The workers must
have SpineViewer installed and see the input and output folders at the same paths (a shared
file system), as a batch on one machine does. Dask is an optional extra:
``pip install spineviewer[dask]``.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Executor, Future
from typing import Any

__all__ = ["CONNECT_TIMEOUT_S", "ClusterError", "DaskExecutor", "dask_executor"]

#: How long to wait for the scheduler before saying it cannot be reached.
CONNECT_TIMEOUT_S = 10


class ClusterError(RuntimeError):
    """The Dask cluster cannot be used (not installed, scheduler unreachable)."""


class DaskExecutor(Executor):
    """A :class:`concurrent.futures.Executor` over a Dask client (what the local pool offers:
    ``submit`` and ``shutdown`` with ``cancel_futures``)."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self._executor = client.get_executor(pure=False)
        self._futures: list[Any] = []

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        future: Future[Any] = self._executor.submit(fn, *args, **kwargs)
        self._futures.append(future)
        return future

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        if cancel_futures:
            for future in self._futures:
                future.cancel()
        self._executor.shutdown(wait=wait and not cancel_futures)
        self.client.close()


def dask_executor(address: str) -> DaskExecutor:
    """An executor on the Dask scheduler at ``address`` (``tcp://HOST:PORT``)."""
    try:
        from distributed import Client
    except ImportError as exc:
        raise ClusterError(
            "--scheduler needs Dask: pip install 'spineviewer[dask]' (dask[distributed])"
        ) from exc
    try:
        client = Client(address, timeout=CONNECT_TIMEOUT_S, set_as_default=False)
    except (OSError, TimeoutError, ValueError) as exc:
        raise ClusterError(
            f"cannot reach the Dask scheduler at {address} within {CONNECT_TIMEOUT_S} s ({exc})"
        ) from exc
    return DaskExecutor(client)
