"""Small dialogs: the keyboard/mouse shortcuts list and the About box.

Both are plain views: :class:`ShortcutsDialog` shows :data:`~spineviewer.gui.shortcuts.BINDINGS`
and the legend of how marks look (:data:`~spineviewer.gui.annotate.review_style.LEGEND`, drawn
with the very pens the viewer uses),
:class:`AboutDialog` shows the version, the not-for-clinical-use notice, model information
handed in by the caller, whether CUDA loads here (as ``spineviewer doctor`` says it, checked by
a background job), the configuration in force (:mod:`spineviewer.config`: each setting, its
value and where it came from, and the config file's problems) and the versions of the
libraries the viewer runs on.
"""

from __future__ import annotations

import atexit
import importlib
import platform
import threading
from collections.abc import Sequence

from PySide6 import __version__ as pyside_version
from PySide6.QtCore import QPointF, Qt, QTimer, qVersion
from PySide6.QtGui import QColor, QFont, QGuiApplication, QPainter, QPalette, QPixmap
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFrame,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLayout,
    QLineEdit,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

import spineviewer
from spineviewer import config
from spineviewer.annotations.annotation import NEEDS_REVIEW, Status
from spineviewer.gui.annotate.review_style import LEGEND, paint_badge, review_pen
from spineviewer.gui.icons import icon
from spineviewer.gui.shortcuts import BINDINGS, Binding, bindings_by_group
from spineviewer.gui.theme import ACCENT, PANEL_BORDER, VIEWPORT_BACKGROUND, WARNING_COLOR
from spineviewer.gui.tree_items import child_items
from spineviewer.gui.workers import Cancelled, Job, Progress

NOT_FOR_CLINICAL_USE = (
    "NOT FOR CLINICAL USE: research and demonstration software; "
    "demo models are trained on synthetic phantoms."
)
DESCRIPTION = (
    "SpineViewer is a desktop viewer for spine MR, CT and radiographs. It reads DICOM folders, "
    "zip archives and DICOMDIRs, shows series side by side with cross-reference lines, "
    "synchronised cursors, window presets and cine, and runs local AI models that propose "
    "findings for a reader to accept, edit or reject."
)
DEFAULT_MODEL_INFO = "No AI models loaded yet."
LICENSE_TEXT = "Licensed under the Apache License 2.0 (Apache-2.0)."
NOT_INSTALLED = "not installed"
#: The CUDA line until the background check answers.
CUDA_CHECKING = "CUDA: checking whether the driver, CUDA and cuDNN libraries load…"
MUTED_STYLE = "color: #aeb6c3;"
#: The About box's left column (models, CUDA, versions), in pixels.
LEFT_COLUMN_WIDTH = 470

#: (label, importable module) of the libraries whose versions the About box lists.
_LIBRARIES: tuple[tuple[str, str], ...] = (
    ("pyqtgraph", "pyqtgraph"),
    ("pydicom", "pydicom"),
    ("numpy", "numpy"),
    ("SimpleITK", "SimpleITK"),
    ("onnxruntime", "onnxruntime"),
)


def _module_version(module_name: str) -> str:
    """Version of an optional library, imported only now; "not installed" when missing."""
    try:
        module = importlib.import_module(module_name)
    except ImportError:
        return NOT_INSTALLED
    except Exception as exc:  # a broken install (missing shared library) must not stop About
        return f"unavailable ({type(exc).__name__}: {exc})"
    version = getattr(module, "__version__", None)
    if version is None and module_name == "SimpleITK":
        version = module.Version_VersionString()
    return str(version) if version else "unknown version"


def onnxruntime_providers() -> list[str] | None:
    """onnxruntime's available execution providers (:func:`~spineviewer.ai.cuda_check.
    onnxruntime_report`), or None when it does not import."""
    from spineviewer.ai.cuda_check import onnxruntime_report

    report, module = onnxruntime_report()
    return None if module is None else list(report["providers"])


#: One CUDA check at a time (``preload_dlls`` and its captured output are process-wide).
_CHECK_LOCK = threading.Lock()


def check_cuda(progress: Progress, cancelled: Cancelled) -> list[str]:
    """:func:`~spineviewer.ai.cuda_check.summary_lines` of this machine: ``onnxruntime.
    preload_dlls`` and the driver and provider libraries loaded, about 0.6 s with a GPU: a
    job's work, never the GUI thread's."""
    from spineviewer.ai.cuda_check import cuda_report, onnxruntime_report, summary_lines

    with _CHECK_LOCK:
        ort, module = onnxruntime_report()
        return summary_lines(cuda_report(module, ort))


#: The CUDA checks still running: referenced here, not by a dialog that may close first.
_CHECKS: list[Job] = []


def _start_cuda_check() -> Job:
    """A background job running :func:`check_cuda`, kept until its thread has ended."""
    job = Job("Checking CUDA", check_cuda)
    _CHECKS.append(job)

    def forget() -> None:
        job.wait()  # the thread is ending: its finished signal has come
        job.finished.disconnect()  # this closure holds the job: let it go
        if job in _CHECKS:
            _CHECKS.remove(job)

    job.finished.connect(lambda: QTimer.singleShot(0, forget))
    return job.start()


@atexit.register
def _wait_for_checks() -> None:
    """A QThread must not be destroyed while it runs (at exit, with an About box just shown)."""
    for job in list(_CHECKS):
        job.wait()


def component_versions() -> dict[str, str]:
    """Name -> version of Python, Qt, PySide6 and the scientific libraries (lazy imports)."""
    versions = {
        "SpineViewer": spineviewer.__version__,
        "Python": platform.python_version(),
        "Qt": qVersion(),
        "PySide6": pyside_version,
    }
    for label, module_name in _LIBRARIES:
        versions[label] = _module_version(module_name)
    providers = onnxruntime_providers()
    versions["onnxruntime providers"] = ", ".join(providers) if providers else NOT_INSTALLED
    return versions


def _heading(text: str) -> QLabel:
    label = QLabel(text)
    font = label.font()
    font.setBold(True)
    font.setPointSizeF(font.pointSizeF() * 1.05)
    label.setFont(font)
    palette = label.palette()
    palette.setColor(QPalette.ColorRole.WindowText, QColor(ACCENT))
    label.setPalette(palette)
    return label


class ShortcutsDialog(QDialog):
    """Non-modal list of every keyboard and mouse binding, grouped and searchable."""

    def __init__(
        self, parent: QWidget | None = None, bindings: Sequence[Binding] = BINDINGS
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Keyboard and mouse shortcuts")
        self.setWindowIcon(icon("shortcuts"))
        self.setModal(False)
        self.resize(620, 820)

        self.search = QLineEdit()
        self.search.setPlaceholderText("Search shortcuts (key or action)…")
        self.search.setClearButtonEnabled(True)
        self.search.textChanged.connect(self._on_search_text_changed)

        self.tree = QTreeWidget()
        self.tree.setColumnCount(2)
        self.tree.setHeaderLabels(["Keys or mouse", "Action"])
        self.tree.setRootIsDecorated(False)
        self.tree.setAlternatingRowColors(True)
        self.tree.setSelectionMode(QTreeWidget.SelectionMode.NoSelection)
        self.tree.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.tree.setItemsExpandable(False)
        self._fill(bindings)
        header = self.tree.header()
        header.setStretchLastSection(True)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Interactive)
        # Size the keys column once, for every binding, so searching does not make it jump.
        self.tree.resizeColumnToContents(0)
        header.resizeSection(0, header.sectionSize(0) + 16)

        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.close)

        layout = QVBoxLayout(self)
        layout.addWidget(self.search)
        layout.addWidget(self.tree, 1)
        layout.addWidget(self._legend())
        layout.addWidget(buttons)

    def _legend(self) -> QGroupBox:
        """How marks look: review state and the AI's doubt, each with a sample drawn by the
        viewer's own pen, and the propagated labels."""
        box = QGroupBox("Legend: how marks look")
        box.setObjectName("legend")
        grid = QGridLayout(box)
        grid.setContentsMargins(6, 4, 6, 4)
        self.legend_rows: list[tuple[QLabel, QLabel]] = []
        for row, entry in enumerate(LEGEND):
            sample = QLabel()
            sample.setPixmap(_legend_sample(entry.status, entry.pending))
            sample.setToolTip(entry.looks)
            text = QLabel(f"<b>{entry.looks}</b>: {entry.meaning}")
            text.setWordWrap(True)
            grid.addWidget(sample, row, 0)
            grid.addWidget(text, row, 1)
            self.legend_rows.append((sample, text))
        extra = QLabel(
            "<b>◆ L3</b> without an outline: a body's label on the other slices and series "
            "that cut it. <b>Level L4-L5</b> at the top of an axial image: its level from the "
            "labelled bodies (it follows Shift labels, Alt+Up / Alt+Down)."
        )
        extra.setWordWrap(True)
        grid.addWidget(extra, len(LEGEND), 0, 1, 2)
        grid.setColumnStretch(1, 1)
        return box

    def _fill(self, bindings: Sequence[Binding]) -> None:
        groups = bindings_by_group() if bindings is BINDINGS else _group(bindings)
        key_font = QFont(self.font())
        key_font.setBold(True)
        group_font = QFont(self.font())
        group_font.setBold(True)
        group_font.setPointSizeF(group_font.pointSizeF() * 1.05)
        for group, items in groups.items():
            group_item = QTreeWidgetItem(self.tree, [group, ""])
            group_item.setFirstColumnSpanned(True)
            group_item.setFont(0, group_font)
            group_item.setForeground(0, self.palette().highlight())
            group_item.setFlags(Qt.ItemFlag.ItemIsEnabled)
            for binding in items:
                child = QTreeWidgetItem(group_item, [binding.keys, binding.action])
                child.setFont(0, key_font)
                child.setData(0, Qt.ItemDataRole.UserRole, binding)
                child.setToolTip(1, f"{binding.keys}: {binding.action}")
            group_item.setExpanded(True)

    def binding_items(self) -> list[QTreeWidgetItem]:
        """Tree items of the bindings (not the group headings), in display order."""
        items: list[QTreeWidgetItem] = []
        for group in child_items(self.tree.invisibleRootItem()):
            items.extend(child_items(group))
        return items

    def visible_bindings(self) -> list[Binding]:
        """The bindings the current search leaves visible."""
        return [
            item.data(0, Qt.ItemDataRole.UserRole)
            for item in self.binding_items()
            if not item.isHidden()
        ]

    def _on_search_text_changed(self, text: str) -> None:
        needle = text.strip().lower()
        for group in child_items(self.tree.invisibleRootItem()):
            group_matches = needle in group.text(0).lower()
            shown = 0
            for child in child_items(group):
                match = (
                    not needle
                    or group_matches
                    or needle in child.text(0).lower()
                    or needle in child.text(1).lower()
                )
                child.setHidden(not match)
                shown += match
            group.setHidden(shown == 0)


def _legend_sample(status: Status, pending: str) -> QPixmap:
    """A short line drawn with the pen of a mark in that state, on the viewport's background."""
    pixmap = QPixmap(72, 18)
    pixmap.fill(QColor(VIEWPORT_BACKGROUND))
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    color = QColor("#90be6d")
    if status == Status.REJECTED:
        color.setAlpha(110)
    painter.setPen(review_pen(color, status, pending))
    end = 52.0 if pending == NEEDS_REVIEW else 68.0  # the badge after the line
    painter.drawLine(QPointF(4, 9), QPointF(end, 9))
    if pending == NEEDS_REVIEW:
        paint_badge(painter, QPointF(56, 3))
    painter.end()
    return pixmap


def _group(bindings: Sequence[Binding]) -> dict[str, list[Binding]]:
    grouped: dict[str, list[Binding]] = {}
    for binding in bindings:
        grouped.setdefault(binding.group, []).append(binding)
    return grouped


class AboutDialog(QDialog):
    """Version, purpose, the not-for-clinical-use notice, models, CUDA, the configuration in
    force and library versions.

    Parameters
    ----------
    parent
        Parent widget (first, as for every Qt widget: ``AboutDialog(window)``).
    model_info
        Text for the "Models and inference" section (model names and versions, onnxruntime
        providers); plain text, shown as given. Keyword-only.

    The CUDA line below it says "checking" until a background job (:func:`check_cuda`, the
    check ``spineviewer doctor`` makes) answers; :attr:`cuda_job` is that job.
    """

    def __init__(
        self, parent: QWidget | None = None, *, model_info: str = DEFAULT_MODEL_INFO
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("About SpineViewer")
        self.setWindowIcon(icon("spineviewer"))
        self.setMinimumWidth(560)
        self.versions = component_versions()
        self.config = config.load()

        logo = QLabel()
        logo.setPixmap(icon("spineviewer").pixmap(72, 72))
        logo.setAlignment(Qt.AlignmentFlag.AlignTop)
        self.title = QLabel(f"SpineViewer {spineviewer.__version__}")
        title_font = self.title.font()
        title_font.setPointSizeF(title_font.pointSizeF() * 1.7)
        title_font.setBold(True)
        self.title.setFont(title_font)
        subtitle = QLabel("Desktop spine radiology viewer with local AI")
        subtitle.setStyleSheet(MUTED_STYLE)
        title_box = QVBoxLayout()
        title_box.setSpacing(2)
        title_box.addWidget(self.title)
        title_box.addWidget(subtitle)
        title_box.addStretch(1)
        top = QHBoxLayout()
        top.setSpacing(14)
        top.addWidget(logo)
        top.addLayout(title_box, 1)

        description = QLabel(DESCRIPTION)
        description.setWordWrap(True)

        self.notice = self._notice()

        self.model_info_label = _selectable(model_info, wrap=True)
        self.model_info_label.setTextFormat(Qt.TextFormat.PlainText)
        self.cuda_label = _selectable(CUDA_CHECKING, wrap=True)
        self.cuda_label.setObjectName("cuda")
        self.cuda_label.setTextFormat(Qt.TextFormat.PlainText)

        license_label = QLabel(LICENSE_TEXT)
        license_label.setStyleSheet(MUTED_STYLE)

        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        copy = QPushButton("Copy details")
        copy.setToolTip(
            "Copy the versions, the CUDA check and the configuration to the clipboard "
            "(for bug reports; secrets only as set / not set)"
        )
        copy.setAutoDefault(False)
        copy.clicked.connect(self._on_copy_clicked)
        buttons.addButton(copy, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.button(QDialogButtonBox.StandardButton.Close).setDefault(True)
        buttons.rejected.connect(self.reject)

        # The left column's wrapped text has a fixed width, so a known height (a row of two
        # stretching columns splits the width otherwise than its height is asked for).
        for wrapped in (self.model_info_label, self.cuda_label):
            wrapped.setFixedWidth(LEFT_COLUMN_WIDTH)
        left = QVBoxLayout()
        left.setSpacing(8)
        left.addWidget(_heading("Models and inference"))
        left.addWidget(self.model_info_label)
        left.addWidget(self.cuda_label)
        left.addSpacing(6)
        left.addWidget(_heading("Versions"))
        left.addWidget(self._versions_box())
        left.addStretch(1)
        right = QVBoxLayout()
        right.setSpacing(8)
        right.addWidget(_heading("Configuration"))
        right.addWidget(self._config_box())
        env_note = _muted(
            f"Each setting's environment variable is {config.ENV_PREFIX} and its name in "
            f"capitals ({config.SETTINGS['provider'].env}); the environment wins over the "
            "config file, the config file over the defaults. spineviewer doctor prints the same."
        )
        env_note.setWordWrap(True)
        right.addWidget(env_note)
        right.addStretch(1)
        columns = QHBoxLayout()
        columns.setSpacing(18)
        columns.addLayout(left)
        columns.addLayout(right, 1)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(18, 18, 18, 14)
        layout.setSpacing(8)
        layout.addLayout(top)
        layout.addWidget(description)
        layout.addWidget(self.notice)
        layout.addSpacing(6)
        layout.addLayout(columns)
        layout.addWidget(license_label)
        layout.addWidget(buttons)
        self._fit()

        self.cuda_job = _start_cuda_check()
        self.cuda_job.succeeded.connect(self._on_cuda_checked)
        self.cuda_job.failed.connect(self._on_cuda_check_failed)

    def _fit(self) -> None:
        """Word-wrapped labels need the height for the chosen width, which a top-level layout
        does not propagate by itself."""
        for inner in self.findChildren(QLayout):  # heights for widths cached before a change
            inner.invalidate()
        layout = self.layout()
        assert layout is not None
        width = max(self.minimumWidth(), layout.sizeHint().width())
        self.resize(width, layout.totalHeightForWidth(width))

    def _versions_box(self) -> QFrame:
        frame, grid = _framed("versions")
        for row, (name, version) in enumerate(self.versions.items()):
            grid.addWidget(_muted(name), row, 0, Qt.AlignmentFlag.AlignTop)
            grid.addWidget(_selectable(version.replace(", ", "\n")), row, 1)
        grid.setColumnStretch(1, 1)
        return frame

    def _config_box(self) -> QFrame:
        """The config file, each setting with its value and source, and the file's problems."""
        settings = self.config
        frame, grid = _framed("config")
        file_label = _selectable(f"{settings.file}\n({config_file_state(settings)})")
        file_label.setToolTip(
            f"The config file read ({config.CONFIG_ENV} names another); spineviewer doctor "
            "shows the same"
        )
        grid.addWidget(_muted("config file"), 0, 0, Qt.AlignmentFlag.AlignTop)
        grid.addWidget(file_label, 0, 1, 1, 2)
        self.config_rows: list[tuple[QLabel, QLabel, QLabel]] = []
        for row, entry in enumerate(settings.rows(), start=1):
            tip = f"{entry['help']}\nenvironment variable: {entry['env']}"
            name = _muted(entry["name"])
            value = _selectable(entry["value"])
            source = _muted(short_source(entry["source"], settings))
            for label in (name, value, source):
                label.setToolTip(f"{tip}\nfrom: {entry['source']}")
            grid.addWidget(name, row, 0, Qt.AlignmentFlag.AlignTop)
            grid.addWidget(value, row, 1)
            grid.addWidget(source, row, 2, Qt.AlignmentFlag.AlignTop)
            self.config_rows.append((name, value, source))
        grid.setColumnStretch(1, 1)
        self.config_problems: list[QLabel] = []
        for problem in settings.problems:
            label = _selectable(f"⚠ {problem}", wrap=True)
            label.setStyleSheet(f"color: {WARNING_COLOR};")
            grid.addWidget(label, grid.rowCount(), 0, 1, 3)
            self.config_problems.append(label)
        return frame

    def _notice(self) -> QFrame:
        frame = QFrame()
        frame.setObjectName("notice")
        frame.setStyleSheet(
            f"QFrame#notice {{ border: 1px solid {WARNING_COLOR}; border-radius: 4px;"
            " background-color: rgba(229, 192, 123, 28); }"
        )
        sign = QLabel()
        sign.setPixmap(icon("warning").pixmap(28, 28))
        sign.setAlignment(Qt.AlignmentFlag.AlignTop)
        text = QLabel(NOT_FOR_CLINICAL_USE)
        text.setWordWrap(True)
        font = text.font()
        font.setBold(True)
        text.setFont(font)
        text.setStyleSheet(f"color: {WARNING_COLOR};")
        row = QHBoxLayout(frame)
        row.setContentsMargins(10, 8, 10, 8)
        row.setSpacing(10)
        row.addWidget(sign)
        row.addWidget(text, 1)
        self.notice_text = text
        return frame

    def _on_cuda_checked(self, lines: list[str]) -> None:
        self.cuda_label.setText("\n".join(lines))
        self._fit()

    def _on_cuda_check_failed(self, message: str) -> None:
        self.cuda_label.setText(f"CUDA: could not be checked ({message})")
        self._fit()

    def versions_text(self) -> str:
        """The version list as plain text, one ``name: version`` a line."""
        return "\n".join(f"{name}: {version}" for name, version in self.versions.items())

    def details_text(self) -> str:
        """What "Copy details" copies: the versions, the CUDA line and the configuration (the
        config file, ``name = value (source)`` a setting, its problems), as plain text."""
        settings = self.config
        lines = [self.versions_text(), self.cuda_label.text()]
        lines.append(f"Config: {settings.file} ({config_file_state(settings)})")
        lines += [f"  {r['name']} = {r['value']} ({r['source']})" for r in settings.rows()]
        lines += [f"  problem: {problem}" for problem in settings.problems]
        return "\n".join(lines)

    def _on_copy_clicked(self) -> None:
        clipboard = QGuiApplication.clipboard()
        if clipboard is not None:
            clipboard.setText(self.details_text())


def config_file_state(settings: config.Config) -> str:
    """Whether the config file was read, as ``spineviewer doctor`` says it."""
    state = "read" if settings.file.is_file() else "none there: defaults and environment"
    origin = "" if settings.file_source == "default" else f"; from {settings.file_source}"
    return state + origin


def short_source(source: str, settings: config.Config) -> str:
    """A setting's source with the config file's path (shown above it) as "config file"."""
    path = str(settings.file)
    return "config file" + source[len(path) :] if source.startswith(path) else source


def _framed(name: str) -> tuple[QFrame, QGridLayout]:
    """A bordered frame with a grid inside (the About box's tables)."""
    frame = QFrame()
    frame.setObjectName(name)
    frame.setStyleSheet(
        f"QFrame#{name} {{ border: 1px solid {PANEL_BORDER}; border-radius: 4px; }}"
    )
    grid = QGridLayout(frame)
    grid.setContentsMargins(10, 8, 10, 8)
    grid.setHorizontalSpacing(18)
    grid.setVerticalSpacing(4)
    return frame, grid


def _muted(text: str) -> QLabel:
    label = QLabel(text)
    label.setStyleSheet(MUTED_STYLE)
    return label


def _selectable(text: str, wrap: bool = False) -> QLabel:
    """A label whose text can be selected and copied (word-wrapped with ``wrap``: never paths,
    which would break at every slash)."""
    label = QLabel(text)
    label.setWordWrap(wrap)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    return label
