"""Reports of one study: the report model (JSON), HTML, and PDF rendered offscreen.

No Qt here except :mod:`spineviewer.reports.pdf`, which renders the HTML with Qt's
``QTextDocument`` and ``QPdfWriter`` (offscreen, no window, no browser).
"""

from spineviewer.reports.study_report import NOT_FOR_CLINICAL_USE, LevelRow, Report, build_report

__all__ = ["NOT_FOR_CLINICAL_USE", "LevelRow", "Report", "build_report"]
