"""ffprobe (Debian's ffmpeg) as the real decoder of the exported MP4s."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

needs_ffprobe = pytest.mark.skipif(
    shutil.which("ffprobe") is None, reason="ffprobe (Debian package ffmpeg) is not installed"
)


def ffprobe_frames(path: Path) -> dict[str, object]:
    """Codec, pixel format, size and the frame count a real decoder reads from ``path``."""
    done = subprocess.run(
        ["ffprobe", "-v", "error", "-count_frames", "-select_streams", "v:0", "-show_entries",
         "stream=codec_name,width,height,pix_fmt,nb_read_frames", "-of", "json", str(path)],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    return dict(json.loads(done.stdout)["streams"][0])
