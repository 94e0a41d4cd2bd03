"""Printing a bench's JSON result (and saving it with ``--out``)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def emit(result: dict[str, Any], out: Path | None) -> int:
    """Print ``result`` as indented JSON, write it to ``out`` when given; exit status 0."""
    text = json.dumps(result, indent=2)
    print(text)
    if out:
        out.write_text(text + "\n")
    return 0
