"""Checkboxes of output formats, one per format of the registry (:mod:`spineviewer.formats`):
the Export report and Send to PACS dialogs and the annotation export list their formats
from it, never by hand."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping

from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QLabel,
    QVBoxLayout,
    QWidget,
)

from spineviewer import formats as registry

__all__ = ["FormatsDialog", "chosen", "format_checks"]


def format_checks(
    chosen_formats: Iterable[registry.OutputFormat], checked: Collection[str] = ()
) -> dict[str, QCheckBox]:
    """A checkbox per format (its label; what it needs in the tooltip), by the format's
    command-line spelling (``sr`` for the report's ``findings-sr``, as ``--format`` takes it);
    those named in ``checked`` (by name or spelling) ticked."""
    checks = {}
    for fmt in chosen_formats:
        box = QCheckBox(fmt.label)
        box.setToolTip(f"{fmt.name}: needs {'; '.join(sorted(n.value for n in fmt.needs))}")
        box.setChecked(fmt.name in checked or (bool(fmt.alias) and fmt.alias in checked))
        checks[fmt.alias or fmt.name] = box
    return checks


def chosen(checks: Mapping[str, QCheckBox]) -> list[str]:
    """The spellings of the ticked formats, in registry order."""
    return [name for name, box in checks.items() if box.isChecked()]


class FormatsDialog(QDialog):
    """Which formats of a family to write (the family's defaults ticked)."""

    def __init__(self, parent: QWidget | None, family: registry.Family, title: str) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.checks = format_checks(registry.of(family), registry.defaults(family))
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("Write:"))
        for box in self.checks.values():
            box.toggled.connect(self._update)
            layout.addWidget(box)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)
        self._update()

    def formats(self) -> list[str]:
        return chosen(self.checks)

    def _update(self) -> None:
        ok = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        ok.setEnabled(bool(self.formats()))
