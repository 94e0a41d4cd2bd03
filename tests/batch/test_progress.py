"""The batch progress report: a bar redrawn in place on a terminal, lines in a log."""

from __future__ import annotations

import io

from spineviewer.batch.jobs import JobResult
from spineviewer.batch.runner import _progress_line, progress_bar


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_bar_fills_with_the_count() -> None:
    assert progress_bar(0, 4) == "[" + "-" * 30 + "]"
    assert progress_bar(2, 4).count("#") == 15
    assert progress_bar(4, 4) == "[" + "#" * 30 + "]"
    assert progress_bar(0, 0) == "[" + "#" * 30 + "]"


def test_terminal_gets_one_bar_and_failures_above_it() -> None:
    out = _Terminal()
    report = _progress_line(out)
    report(JobResult("1.2.3", "done"), 1, 2, 30.0)
    report(JobResult("1.2.4", "failed", error="no image"), 2, 2, 60.0)
    text = out.getvalue()
    assert "1.2.4 failed: no image\n" in text
    assert text.endswith("2/2 (2.0 studies/min, ETA 0 s)\n")
    assert "1/2 (2.0 studies/min, ETA 30 s)" in text and text.count("\n") == 2


def test_log_gets_one_line_per_study() -> None:
    out = io.StringIO()
    report = _progress_line(out)
    report(JobResult("1.2.3", "done"), 1, 2, 30.0)
    assert out.getvalue() == "[1/2] 1.2.3 done (2.0 studies/min, ETA 30 s)\n"


def test_resumed_studies_count_up_and_give_no_pace(tmp_path) -> None:
    """Studies resumed from an earlier run are counted one by one, without a rate (they said
    [3/3] three times at "180000000000.0 studies/min"); the rate and ETA of the studies run
    afterwards count only those (issue 20, item 11)."""
    import json

    from spineviewer.batch import StudyJob, run_batch

    jobs = []
    for k in range(3):
        folder = tmp_path / f"1.2.{k}"
        folder.mkdir()
        manifest = {"study_uid": f"1.2.{k}", "findings": {}, "files": []}
        (folder / "manifest.json").write_text(json.dumps(manifest))
        jobs.append(StudyJob(f"1.2.{k}", (), folder, ("json",)))
    out = io.StringIO()

    results = run_batch(jobs, resume=True, report=_progress_line(out))

    assert [r.status for r in results] == ["skipped"] * 3
    lines = out.getvalue().splitlines()
    assert [line.split()[0] for line in lines] == ["[1/3]", "[2/3]", "[3/3]"]
    assert not [line for line in lines if "studies/min" in line], lines

    later = io.StringIO()
    _progress_line(later)(JobResult("1.2.9", "done"), 4, 5, 30.0, 1)  # 3 resumed, 1 run
    assert later.getvalue().endswith("(2.0 studies/min, ETA 30 s)\n")
