"""Dark theme for reading rooms: a Fusion palette, a small stylesheet and the viewport colours.

Reading rooms are dim, so image areas are near-black, panels a dark grey that does not glow,
text a soft light grey and the accent a muted blue. The colour constants are hex strings
(``#RRGGBB`` or ``#AARRGGBB``); pass them to ``QColor`` or ``pyqtgraph.mkPen`` as they are.
"""

from __future__ import annotations

import colorsys
from functools import cache

from PySide6.QtGui import QColor, QFont, QPalette
from PySide6.QtWidgets import QApplication, QToolTip

from spineviewer.annotations.level_names import column, disc_parts, is_level

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

# --- overlay text and label colours ---------------------------------------------------------
# Two schemes that never share a hue, each readable on the viewport background (contrast
# >= 4.5, WCAG AA) and, on bright bone or metal, on the labels' dark backing box:
#
# - levels (vertebrae, discs named by level): cool, light tones that alternate from one level
#   to the next (light sky / pale sky for bodies, lavender / pale lavender for discs), never
#   red or orange (those mean a state);
# - disc states: tints of the Okabe-Ito colour-blind safe palette (bluish green, yellow,
#   vermillion). A state is never told by colour alone: the label says it ("L4-L5 bulge") and
#   the outline's width grows with it (:data:`STATE_PEN_WIDTHS`), the disc badges' marker
#   shape too.
#
#: Vertebra levels, alternating from one level to the next.
VERTEBRA_COLORS = ("#6cc6ff", "#b4e4ff")
#: Disc levels, alternating with the level above.
DISC_COLORS = ("#c0a8ff", "#e0d4ff")
#: Disc states (Okabe-Ito tints), also used by the disc badges.
STATE_COLORS: dict[str, str] = {
    "normal": "#2fd1a0",  # bluish green
    "bulge": "#f0e442",  # yellow
    "herniation": "#ff7a45",  # vermillion
}
#: Outline width (px) of a disc annotation by its state: the state also shows as line weight.
STATE_PEN_WIDTHS: dict[str, float] = {"normal": 1.5, "bulge": 2.5, "herniation": 4.0}
#: Implants (one pink family, apart from levels and states) and fractures (a finding: the
#: vermillion of a herniation, with its own word).
CLASS_COLORS: dict[str, str] = {
    "pedicle_screw": "#e08fc0",
    "rod": "#f4b8dc",
    "interbody_cage": "#ffa8d8",
    "plate": "#f7c6e6",
    "fracture": STATE_COLORS["herniation"],
}
#: Cobb angle lines (lime: no level, state, implant, cross-reference or review colour comes
#: near it), drawn over the vertebra boxes whose endplates they follow.
COBB_COLOR = "#b6ff5c"
#: The labels' backing box: black at this opacity under the text, so light text reads on
#: white bone and metal as well as on the dark background, and every label's box looks the
#: same dark wherever it lies (at 0.8 a big box over bone, a selected box's statistics, read
#: as a lighter grey than the labels beside it: bone at 150 showed through as 30).
LABEL_BACKING_ALPHA = 0.94
#: The dark halo round overlay text (corner text, letters, labels).
HALO_COLOR = "#000000"
#: Overlay text is at least this many pixels high on a 96 dpi screen, more on denser ones.
MIN_TEXT_PX_AT_96_DPI = 13
#: Contrast every overlay colour keeps against the background (WCAG AA for text).
MIN_CONTRAST = 4.5


def overlay_text_px(dpi: float) -> int:
    """The overlay font's pixel height on a screen of ``dpi`` logical dots per inch:
    :data:`MIN_TEXT_PX_AT_96_DPI` at 96 dpi, scaled with the screen, never smaller."""
    return max(MIN_TEXT_PX_AT_96_DPI, round(MIN_TEXT_PX_AT_96_DPI * dpi / 96.0))


@cache
def overlay_font(px: int, bold: bool = False) -> QFont:
    """The overlay font at ``px`` pixels (DejaVu Sans: wide, open shapes for small text)."""
    font = QFont("DejaVu Sans")
    font.setPixelSize(px)
    font.setBold(bold)
    font.setStyleHint(QFont.StyleHint.SansSerif)
    return font


def _parity(level: str) -> int:
    order = column()
    if level in order:
        return order.index(level) % 2
    return 1 - order.index("L5") % 2 if level == "L6" else 0


def label_color(label: str, state: str | None = None) -> str | None:
    """The overlay colour of a label key ("#rrggbb"): a disc with a state has the state's
    colour, a level its level tone, an implant or fracture its class colour; None for any
    other label (the caller keeps its own colour)."""
    if state and state in STATE_COLORS:
        return STATE_COLORS[state]
    if is_level(label):
        return VERTEBRA_COLORS[_parity(label)]
    if label == "sacrum":
        return VERTEBRA_COLORS[_parity("S1")]
    parts = disc_parts(label)
    if parts is not None:
        return DISC_COLORS[_parity(parts[0])]
    return CLASS_COLORS.get(label)


def relative_luminance(color: str) -> float:
    """WCAG relative luminance of an opaque "#rrggbb" colour."""

    def channel(value: int) -> float:
        c = value / 255.0
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    rgb = QColor(color)
    r, g, b = rgb.red(), rgb.green(), rgb.blue()
    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)


def contrast_ratio(a: str, b: str) -> float:
    """WCAG contrast ratio of two opaque colours (1 to 21)."""
    la, lb = sorted((relative_luminance(a), relative_luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def backing_over(background: str) -> str:
    """What the labels' backing box looks like over ``background`` ("#rrggbb")."""
    under = QColor(background)
    keep = 1.0 - LABEL_BACKING_ALPHA
    return QColor(
        round(under.red() * keep), round(under.green() * keep), round(under.blue() * keep)
    ).name()


def hue_degrees(color: str) -> float:
    """The hue of ``color`` in degrees (HLS), 0 for greys."""
    c = QColor(color)
    hue, _, _ = colorsys.rgb_to_hls(c.redF(), c.greenF(), c.blueF())
    return hue * 360.0


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
