"""A thread-safe LRU cache of decoded frames bounded by a memory budget in bytes."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable

import numpy as np

#: Default budget of the shared cache: enough for a few lumbar MR studies.
DEFAULT_BUDGET_BYTES = 512 * 1024**2


class FrameCache:
    """Least-recently-used decoded frames, never more than ``budget_bytes`` in total.

    Arrays are stored read-only so a cached frame cannot be changed by a caller.
    """

    def __init__(self, budget_bytes: int = DEFAULT_BUDGET_BYTES) -> None:
        if budget_bytes < 0:
            raise ValueError(f"cache budget must be >= 0 bytes, got {budget_bytes}")
        self.budget_bytes = budget_bytes
        self._items: OrderedDict[Hashable, np.ndarray] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    @property
    def nbytes(self) -> int:
        """Bytes currently held."""
        return self._bytes

    def __len__(self) -> int:
        return len(self._items)

    def get(self, key: Hashable) -> np.ndarray | None:
        """The cached array for ``key`` (marked most recently used), or None."""
        with self._lock:
            arr = self._items.get(key)
            if arr is None:
                self.misses += 1
                return None
            self._items.move_to_end(key)
            self.hits += 1
            return arr

    def put(self, key: Hashable, arr: np.ndarray) -> np.ndarray:
        """Store ``arr`` (made read-only) and evict the oldest frames beyond the budget."""
        arr.setflags(write=False)
        if arr.nbytes > self.budget_bytes:
            return arr
        with self._lock:
            old = self._items.pop(key, None)
            if old is not None:
                self._bytes -= old.nbytes
            self._items[key] = arr
            self._bytes += arr.nbytes
            while self._bytes > self.budget_bytes and self._items:
                _, evicted = self._items.popitem(last=False)
                self._bytes -= evicted.nbytes
        return arr

    def clear(self) -> None:
        """Drop everything."""
        with self._lock:
            self._items.clear()
            self._bytes = 0


#: The process-wide cache used when none is given.
SHARED_CACHE = FrameCache()
