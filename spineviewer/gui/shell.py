"""What a feature of the viewer may ask of the window it lives in: the shell.

The annotation tools (:mod:`.annotate.ui`), the AI (:mod:`.analysis_ui`), the report export
(:mod:`.report_dialog`) and the PACS dialogs (:mod:`.pacs_dialog`, :mod:`.pacs_nodes`,
:mod:`.pacs_send`) see the window only as a :class:`Shell`: they open paths, run background
jobs, tell the user, and show series in the viewports through it, never through
:class:`~spineviewer.gui.main_window.MainWindow` or its private methods.
:class:`~spineviewer.gui.main_window.MainWindow` implements it (mypy checks that where the
window hands itself to a feature), and nothing but the window and the application
(:mod:`.app`) imports the window, so the features form no import circle with it (the
``acyclic_siblings`` contract of ``spineviewer.gui`` in pyproject.toml keeps it so).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from PySide6.QtWidgets import QMainWindow

    from spineviewer.dicom import Stack, Study
    from spineviewer.gui.grid import ViewportGrid
    from spineviewer.gui.settings import ViewerSettings
    from spineviewer.gui.viewport import ImageViewport
    from spineviewer.gui.workers import Job


class Shell(Protocol):
    """The window as the features see it."""

    @property
    def widget(self) -> QMainWindow:
        """The window as a Qt widget: the parent of a feature's docks, dialogs and actions
        (its public QMainWindow API: docks, the status bar, window-wide shortcuts)."""
        ...

    @property
    def settings(self) -> ViewerSettings:
        """The viewer's settings (AI provider, model folders, ...)."""
        ...

    @property
    def grid(self) -> ViewportGrid:
        """The viewports: every one, the visible ones, the active one."""
        ...

    def studies(self) -> list[Study]:
        """Every study opened, in the order opened."""
        ...

    def study_of(self, stack: Stack) -> Study | None:
        """The opened study ``stack`` belongs to."""
        ...

    def open_paths(self, paths: Sequence[str | Path]) -> Job | None:
        """Open folders, archives or files in the background (as File > Open does)."""
        ...

    def apply_hanging(self, study: Study) -> None:
        """Lay ``study`` out by the spine hanging protocol."""
        ...

    def show_series(self, stacks: Sequence[Stack], viewport: ImageViewport, study: Study) -> None:
        """Show ``stacks`` (of ``study``) in ``viewport``, cross-reference lines updated."""
        ...

    def set_tool(self, tool: str) -> None:
        """The left-button tool of every viewport (a reading or an annotation tool)."""
        ...

    def start_job(self, job: Job) -> Job:
        """Start ``job`` with the window's progress bar and Cancel button; returns it."""
        ...

    def when_idle(self, callback: Callable[[], None]) -> None:
        """Call ``callback`` once no background job runs and no study is being opened
        (at once when that is so now)."""
        ...

    def notify(self, title: str, text: str, details: str = "") -> None:
        """A non-modal warning the user closes (the window keeps working meanwhile)."""
        ...

    def show_status(self, text: str, msecs: int = 5000) -> None:
        """A passing message in the status bar."""
        ...


__all__ = ["Shell"]
