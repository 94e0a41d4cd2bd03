"""The study browser: patient > study > series (> stack) with thumbnails, warnings, problems.

Patients read as in a radiology viewer ("Phantom, Lumbar 00001 (PH-LUMBAR-00001)"), study
dates as 2024-01-02. In PHI-free mode (:meth:`StudyBrowser.set_phi_free`) a patient is
"Patient 1", "Patient 2", ... and studies show no date: nothing names or dates the patient.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QByteArray, QMimeData, QSize, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QIcon, QImage, QPixmap
from PySide6.QtWidgets import (
    QAbstractItemView,
    QLineEdit,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from spineviewer.dicom import ScanResult, Series, Stack, Study
from spineviewer.gui.rows_model import dicom_date, person_name
from spineviewer.gui.thumbnails import THUMBNAIL_SIZE, ThumbnailLoader
from spineviewer.gui.tree_items import child_items
from spineviewer.gui.viewport import STACKS_MIME

WARNING_COLOR = QColor("#e5c07b")
KEY_ROLE = Qt.ItemDataRole.UserRole + 1
WARNING_MARK = "\u26a0"
COLUMNS = ("Series", "", "Images")


def _mark_warning(item: QTreeWidgetItem, text: str) -> None:
    """The yellow warning mark in the warning column, with the warning text as tooltip."""
    item.setText(1, WARNING_MARK)
    item.setForeground(1, QBrush(WARNING_COLOR))
    item.setTextAlignment(1, Qt.AlignmentFlag.AlignCenter)
    item.setToolTip(1, text)


def patient_text(info: dict[str, str]) -> str:
    """ "Family, Given (ID)" of a study's patient."""
    name = person_name(info.get("PatientName", "")) or "(no name)"
    pid = info.get("PatientID", "")
    return f"{name}  ({pid})" if pid else name


def study_text(info: dict[str, str], phi_free: bool = False) -> str:
    """ "2024-01-02 LUMBAR MR" (no date in PHI-free mode)."""
    date = "" if phi_free else dicom_date(info.get("StudyDate", ""))
    return " ".join(p for p in (date, info.get("StudyDescription", "")) if p) or "(study)"


class _Tree(QTreeWidget):
    """The tree, with drag support for series and stacks."""

    def __init__(self, browser: StudyBrowser) -> None:
        super().__init__(browser)
        self._browser = browser

    def mimeTypes(self) -> list[str]:
        return [STACKS_MIME]

    def mimeData(self, items: Sequence[QTreeWidgetItem]) -> QMimeData:
        mime = QMimeData()
        keys = [item.data(0, KEY_ROLE) for item in items if item.data(0, KEY_ROLE)]
        if keys:
            mime.setData(STACKS_MIME, QByteArray(keys[0].encode()))
        return mime


class StudyBrowser(QWidget):
    """Lists opened studies; double-click, Enter or drag a series to show it."""

    #: A series (all its stacks) or one stack was chosen: ``tuple[Stack, ...]``.
    stacksActivated = Signal(object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.filter = QLineEdit(self)
        self.filter.setPlaceholderText("Filter studies and series")
        self.filter.setClearButtonEnabled(True)
        self.filter.textChanged.connect(self._apply_filter)
        self.tree = _Tree(self)
        self.tree.setColumnCount(len(COLUMNS))
        self.tree.setHeaderLabels(list(COLUMNS))
        self.tree.setIconSize(QSize(56, 56))
        self.tree.setDragEnabled(True)
        self.tree.setDragDropMode(QAbstractItemView.DragDropMode.DragOnly)
        self.tree.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.tree.setUniformRowHeights(False)
        self.tree.header().setStretchLastSection(False)
        self.tree.setColumnWidth(1, 26)
        self.tree.setColumnWidth(2, 60)
        self.tree.header().setSectionResizeMode(0, self.tree.header().ResizeMode.Stretch)
        self.tree.itemActivated.connect(self._on_tree_item_activated)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addWidget(self.filter)
        layout.addWidget(self.tree)
        self.thumbnails = ThumbnailLoader(self)
        self.thumbnails.ready.connect(self._on_thumbnail_ready)
        self.thumbnails.failed.connect(self._on_thumbnail_failed)
        self._stacks: dict[str, tuple[Stack, ...]] = {}
        self._items: dict[str, QTreeWidgetItem] = {}
        self._patients: dict[str, QTreeWidgetItem] = {}
        #: Study attributes behind each patient and study item (their texts are made again
        #: when PHI-free mode changes).
        self._infos: dict[int, tuple[QTreeWidgetItem, dict[str, str], bool]] = {}
        #: PHI-free mode: no names, patient IDs or dates.
        self.phi_free = False
        self._problems: QTreeWidgetItem | None = None
        self._problem_count = 0
        self.setMinimumWidth(340)

    # -- content -----------------------------------------------------------------------

    def set_results(self, results: Sequence[ScanResult]) -> None:
        """Show exactly ``results``."""
        self.tree.clear()
        self._stacks.clear()
        self._items.clear()
        self._patients.clear()
        self._infos.clear()
        self._problems = None
        self._problem_count = 0
        for result in results:
            self.add_result(result)

    def add_result(self, result: ScanResult) -> None:
        """Add the studies and problems of one scan."""
        for study in result.studies:
            self._add_study(study)
        if result.skipped:
            self._add_problems(result)
        self.tree.expandAll()
        self.tree.resizeColumnToContents(2)

    def _patient_item(self, study: Study) -> QTreeWidgetItem:
        key = f"{study.info.get('PatientName', '')}|{study.info.get('PatientID', '')}"
        if key not in self._patients:
            item = QTreeWidgetItem([""])
            item.setFlags(Qt.ItemFlag.ItemIsEnabled)
            self.tree.addTopLevelItem(item)
            self._patients[key] = item
            self._infos[id(item)] = (item, dict(study.info), True)
            self._name(item)
        return self._patients[key]

    def _name(self, item: QTreeWidgetItem) -> None:
        """The text of a patient or study item, as PHI-free mode wants it."""
        _, info, patient = self._infos[id(item)]
        if not patient:
            item.setText(0, study_text(info, self.phi_free))
        elif self.phi_free:
            number = list(self._patients.values()).index(item) + 1
            item.setText(0, f"Patient {number}")
        else:
            item.setText(0, patient_text(info))

    def set_phi_free(self, on: bool) -> None:
        """Hide (or show again) patient names, IDs and study dates."""
        if on != self.phi_free:
            self.phi_free = on
            for item, _, _ in self._infos.values():
                self._name(item)

    def _add_study(self, study: Study) -> None:
        item = QTreeWidgetItem([""])
        self._infos[id(item)] = (item, dict(study.info), False)
        self._name(item)
        item.setFlags(Qt.ItemFlag.ItemIsEnabled)
        item.setToolTip(0, f"Study {study.uid}")
        self._patient_item(study).addChild(item)
        for series in study.series:
            self._add_series(item, series)

    def _add_series(self, parent: QTreeWidgetItem, series: Series) -> None:
        key = f"{series.uid}#{id(series)}"
        count = sum(len(s) for s in series.stacks)
        first = series.stacks[0]
        number = f"#{series.number} " if series.number is not None else ""
        title = f"{number}{series.description or '(no description)'}"
        detail = f"{series.modality} {first.plane}, {first.shape[1]}x{first.shape[0]}"
        if len(series.stacks) > 1:
            detail += f", {len(series.stacks)} stacks"
        item = QTreeWidgetItem([f"{title}\n{detail}", "", str(count)])
        item.setData(0, KEY_ROLE, key)
        item.setToolTip(0, f"{title}\n{detail}\n{count} images")
        item.setFlags(
            Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemIsDragEnabled
        )
        item.setIcon(0, self._placeholder())
        warnings = list(series.warnings) + [w for s in series.stacks for w in s.warnings]
        if warnings:
            _mark_warning(item, "\n".join(dict.fromkeys(warnings)))
        parent.addChild(item)
        self._stacks[key] = series.stacks
        self._items[key] = item
        self.thumbnails.request(key, series.stacks)
        if len(series.stacks) > 1:
            for place, stack in enumerate(series.stacks, start=1):
                self._add_stack(item, stack, place, key)

    def _add_stack(self, parent: QTreeWidgetItem, stack: Stack, number: int, key: str) -> None:
        stack_key = f"{key}/{number}"
        text = f"Stack {number}: {stack.plane}, {len(stack)} images"
        item = QTreeWidgetItem([text, "", str(len(stack))])
        item.setData(0, KEY_ROLE, stack_key)
        item.setFlags(
            Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemIsDragEnabled
        )
        if stack.warnings:
            _mark_warning(item, "\n".join(stack.warnings))
        parent.addChild(item)
        self._stacks[stack_key] = (stack,)
        self._items[stack_key] = item

    def _add_problems(self, result: ScanResult) -> None:
        if self._problems is None:
            self._problems = QTreeWidgetItem([""])
            self._problems.setFlags(Qt.ItemFlag.ItemIsEnabled)
            self.tree.addTopLevelItem(self._problems)
        for skipped in result.skipped:
            name = skipped.path.rsplit("/", 1)[-1]
            child = QTreeWidgetItem([f"{name}: {skipped.reason}"])
            child.setToolTip(0, f"{skipped.path}\n{skipped.reason}")
            child.setForeground(0, QBrush(WARNING_COLOR))
            child.setFlags(Qt.ItemFlag.ItemIsEnabled)
            self._problems.addChild(child)
        self._problem_count += len(result.skipped)
        self._problems.setText(0, f"Problems: {self._problem_count} file(s) not loaded")
        self._problems.setForeground(0, QBrush(WARNING_COLOR))

    @staticmethod
    def _placeholder() -> QIcon:
        pixmap = QPixmap(THUMBNAIL_SIZE, THUMBNAIL_SIZE)
        pixmap.fill(QColor("#1a1d22"))
        return QIcon(pixmap)

    # -- queries -----------------------------------------------------------------------

    def series_items(self) -> list[QTreeWidgetItem]:
        """Tree items of series (not stacks), in order."""
        return [it for key, it in self._items.items() if "/" not in key.split("#", 1)[1]]

    def problem_items(self) -> list[QTreeWidgetItem]:
        """One item per skipped file."""
        if self._problems is None:
            return []
        return child_items(self._problems)

    def stacks_of(self, item: QTreeWidgetItem) -> tuple[Stack, ...] | None:
        """The stacks a series or stack item stands for."""
        key = item.data(0, KEY_ROLE)
        return self._stacks.get(key) if key else None

    def stacks_for_mime(self, mime: QMimeData) -> tuple[Stack, ...] | None:
        """The stacks a drag from this browser carries, or None."""
        if not mime.hasFormat(STACKS_MIME):
            return None
        key = bytes(mime.data(STACKS_MIME).data()).decode(errors="replace")
        return self._stacks.get(key)

    # -- events ------------------------------------------------------------------------

    def _on_tree_item_activated(self, item: QTreeWidgetItem, _column: int) -> None:
        stacks = self.stacks_of(item)
        if stacks:
            self.stacksActivated.emit(stacks)

    def _on_thumbnail_ready(self, key: str, image: QImage) -> None:
        item = self._items.get(key)
        if item is not None:
            item.setIcon(0, QIcon(QPixmap.fromImage(image)))

    def _on_thumbnail_failed(self, key: str, message: str) -> None:
        item = self._items.get(key)
        if item is not None:
            _mark_warning(item, f"No thumbnail: {message}")

    def _apply_filter(self, text: str) -> None:
        needle = text.strip().lower()
        for item in self.series_items():
            parent = item.parent()
            parent_text = parent.text(0).lower() if parent is not None else ""
            visible = not needle or needle in item.text(0).lower() or needle in parent_text
            item.setHidden(not visible)
