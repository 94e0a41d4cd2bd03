"""Dark theme for reading rooms: a Fusion palette, a small stylesheet and the viewport colours.

Reading rooms are dim, so image areas are near-black, panels a dark grey that does not glow,
text a soft light grey and the accent a muted blue. The colour constants are hex strings
(``#RRGGBB`` or ``#AARRGGBB``); pass them to ``QColor`` or ``pyqtgraph.mkPen`` as they are.
"""

from __future__ import annotations

from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication, QToolTip

# --- colours the viewport and overlays draw with -------------------------------------------
#: Background of image viewports (near-black, so the image is the brightest thing on screen).
VIEWPORT_BACKGROUND = "#0b0d10"
#: Corner text and measurement labels: a light, slightly yellow grey as on PACS workstations.
OVERLAY_TEXT_COLOR = "#e6e1c5"
#: Border of the active viewport (the accent colour).
ACTIVE_BORDER_COLOR = "#4f8fcf"
#: Border of the other viewports.
IDLE_BORDER_COLOR = "#23272e"
#: Cross-reference line of the current slice in another viewport.
CROSSREF_COLOR = "#f2c14e"
#: Cross-reference lines of the other slices ("show all"), drawn translucent (alpha 80).
CROSSREF_DIM_COLOR = "#50f2c14e"
#: The synchronised 3D cursor.
CURSOR_COLOR = "#5ce1e6"
#: Warnings (uneven spacing, missing geometry) in status text and banners.
WARNING_COLOR = "#e5c07b"
#: Errors (cannot decode, model failed).
ERROR_COLOR = "#ff6b6b"

# --- palette --------------------------------------------------------------------------------
ACCENT = "#4f8fcf"
WINDOW = "#1b1f24"
BASE = "#101317"
ALTERNATE_BASE = "#161a1f"
PANEL_BORDER = "#2b313a"
BUTTON = "#252a31"
TEXT = "#d8dee9"
TEXT_DISABLED = "#6b7280"
TOOLTIP_BASE = "#2b313a"

_ROLES: dict[QPalette.ColorRole, str] = {
    QPalette.ColorRole.Window: WINDOW,
    QPalette.ColorRole.WindowText: TEXT,
    QPalette.ColorRole.Base: BASE,
    QPalette.ColorRole.AlternateBase: ALTERNATE_BASE,
    QPalette.ColorRole.Text: TEXT,
    QPalette.ColorRole.Button: BUTTON,
    QPalette.ColorRole.ButtonText: TEXT,
    QPalette.ColorRole.BrightText: "#ffffff",
    QPalette.ColorRole.ToolTipBase: TOOLTIP_BASE,
    QPalette.ColorRole.ToolTipText: "#eceff4",
    QPalette.ColorRole.PlaceholderText: "#7b8494",
    QPalette.ColorRole.Highlight: ACCENT,
    QPalette.ColorRole.HighlightedText: "#ffffff",
    QPalette.ColorRole.Link: "#7fb3e6",
    QPalette.ColorRole.LinkVisited: "#a58fd6",
    QPalette.ColorRole.Light: "#3a414c",
    QPalette.ColorRole.Midlight: "#30363f",
    QPalette.ColorRole.Mid: "#262b32",
    QPalette.ColorRole.Dark: "#0d0f12",
    QPalette.ColorRole.Shadow: "#000000",
}

_DISABLED_ROLES: dict[QPalette.ColorRole, str] = {
    QPalette.ColorRole.WindowText: TEXT_DISABLED,
    QPalette.ColorRole.Text: TEXT_DISABLED,
    QPalette.ColorRole.ButtonText: TEXT_DISABLED,
    QPalette.ColorRole.Highlight: "#3a4350",
    QPalette.ColorRole.HighlightedText: "#9aa3b0",
}

STYLESHEET = f"""
QToolTip {{
    color: #eceff4; background-color: {TOOLTIP_BASE}; border: 1px solid #3a414c;
    padding: 4px 6px;
}}
QTreeWidget, QTreeView, QTableView, QListView {{
    background-color: {BASE}; alternate-background-color: {ALTERNATE_BASE};
    border: 1px solid {PANEL_BORDER}; outline: 0;
}}
QTreeView::item, QTableView::item {{ padding: 3px 2px; }}
QTreeView::item:hover {{ background-color: #1f252d; }}
QTreeView::item:selected, QTableView::item:selected {{
    background-color: {ACCENT}; color: #ffffff;
}}
QHeaderView::section {{
    background-color: {WINDOW}; color: #aeb6c3; border: none;
    border-bottom: 1px solid {PANEL_BORDER}; padding: 4px 6px;
}}
QDockWidget {{ color: {TEXT}; }}
QDockWidget::title {{
    background-color: #20252b; padding: 5px 8px; border-bottom: 1px solid {PANEL_BORDER};
}}
QToolBar {{
    background-color: {WINDOW}; border: none; border-bottom: 1px solid {PANEL_BORDER};
    spacing: 2px; padding: 2px;
}}
QToolBar::separator {{ background-color: {PANEL_BORDER}; width: 1px; margin: 4px 4px; }}
QToolButton {{ border: 1px solid transparent; border-radius: 4px; padding: 3px; }}
QToolButton:hover {{ background-color: #2a3038; border-color: #343b45; }}
QToolButton:checked, QToolButton:pressed {{
    background-color: #243548; border-color: {ACCENT};
}}
QStatusBar {{ background-color: #15181c; color: #aeb6c3; border-top: 1px solid {PANEL_BORDER}; }}
QStatusBar::item {{ border: none; }}
QProgressBar {{
    background-color: {BASE}; border: 1px solid {PANEL_BORDER}; border-radius: 3px;
    color: {TEXT}; text-align: center; min-height: 14px;
}}
QProgressBar::chunk {{ background-color: {ACCENT}; border-radius: 2px; }}
QLineEdit {{
    background-color: {BASE}; border: 1px solid {PANEL_BORDER}; border-radius: 3px;
    padding: 4px 6px; selection-background-color: {ACCENT};
}}
QLineEdit:focus {{ border-color: {ACCENT}; }}
"""


def dark_palette() -> QPalette:
    """The reading-room palette: dark grey panels, near-black views, light-grey text."""
    palette = QPalette()
    for role, color in _ROLES.items():
        palette.setColor(role, QColor(color))
    for role, color in _DISABLED_ROLES.items():
        palette.setColor(QPalette.ColorGroup.Disabled, role, QColor(color))
    return palette


def apply_dark_theme(app: QApplication) -> None:
    """Give ``app`` the Fusion style, the dark palette and the small stylesheet."""
    app.setStyle("Fusion")
    palette = dark_palette()
    app.setPalette(palette)
    QToolTip.setPalette(palette)
    app.setStyleSheet(STYLESHEET)
