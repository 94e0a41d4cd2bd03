"""The one registry of keyboard and mouse bindings, as plain data.

Menus, the viewport and the shortcuts dialog all read :data:`BINDINGS`, so what the dialog
lists is what the application does. ``keys`` is written for people ("Alt+Shift+R",
"Up / Down or wheel"); where it is a single key sequence it is also valid for
``QKeySequence``.
"""

from __future__ import annotations

from dataclasses import dataclass

#: Group names in the order the shortcuts dialog shows them.
GROUPS: tuple[str, ...] = ("Navigation", "Display", "Tools", "Annotate", "AI", "Layout", "File")


@dataclass(frozen=True)
class Binding:
    """One key or mouse gesture and what it does.

    Parameters
    ----------
    keys
        The keys or gesture, as shown to the user, e.g. ``"Ctrl+R"`` or ``"Middle drag"``.
    action
        What happens, e.g. ``"Rotate 90° clockwise"``.
    group
        One of :data:`GROUPS`.
    """

    keys: str
    action: str
    group: str


def _group(group: str, *pairs: tuple[str, str]) -> tuple[Binding, ...]:
    return tuple(Binding(keys, action, group) for keys, action in pairs)


BINDINGS: tuple[Binding, ...] = (
    *_group(
        "Navigation",
        ("Up / Down or wheel", "Previous / next image"),
        ("Home / End", "First / last image"),
        ("Page Up / Page Down", "Previous / next series"),
        ("C", "Cine start / stop"),
        ("[ / ]", "Cine slower / faster"),
        ("Tab", "Next viewport"),
    ),
    *_group(
        "Display",
        ("1-9", "Window presets (also View > Window presets and the toolbar's Presets)"),
        ("Left drag", "Window / level"),
        ("Right drag or Ctrl+wheel", "Zoom"),
        ("Middle drag", "Pan"),
        ("F or Space", "Fit to window"),
        ("R", "Reset view (zoom, pan, window, rotation)"),
        ("V", "Invert"),
        ("Alt+R", "Rotate 90° clockwise"),
        ("Alt+Shift+R", "Rotate 90° counter-clockwise"),
        ("H", "Flip horizontal"),
        ("Shift+H", "Flip vertical"),
        ("I", "Corner text on / off"),
        ("P", "PHI-free mode"),
        ("X", "Cross-reference lines on / off"),
        ("Shift+X", "Cross-reference lines of all slices (dimmed) on / off"),
        ("Shift+move", "3D cursor (sync other viewports)"),
        ("Double-click", "Maximise / restore viewport"),
        ("Click a cross-reference line", "Go to that slice (drag it: move through the slices)"),
    ),
    *_group(
        "Tools",
        ("W", "Window / level tool"),
        ("Z", "Zoom tool"),
        ("T", "Pan tool"),
    ),
    *_group(
        "Annotate",
        ("S", "Select / edit tool: click picks, drag moves, handles reshape"),
        ("D", "Distance (line, mm)"),
        (
            "Shift+D",
            "Calibrate the series on a known length: draw a line, type its true length (mm)",
        ),
        ("A", "Angle (arm end, vertex, arm end)"),
        ("K", "Cobb angle (two lines)"),
        ("B", "Rectangle ROI"),
        ("E", "Ellipse ROI"),
        ("G", "Polygon ROI (double-click or Enter closes; Backspace drops a vertex)"),
        ("N", "Freehand ROI"),
        ("O", "Point"),
        ("Q", "Text arrow"),
        ("L", "Vertebra labels: click each body, it gets the next level (L1, L2, ... S1)"),
        ("+ / -", "Vertebra labels: next level one lower / higher"),
        ("Alt+Up", "Shift every vertebra and disc label up one level (L3 → L2)"),
        ("Alt+Down", "Shift every label down one level (L3 → L4; S1 stays, L5 → L6)"),
        ("Esc", "Cancel the drawing in progress / clear the selection"),
        ("Delete", "Delete the selected annotation"),
        ("Double-click an edge", "Add a polygon vertex (select tool)"),
        ("Ctrl+click a vertex", "Remove a polygon vertex (select tool)"),
        ("Ctrl+Shift+Up / Down", "Copy the selection to the previous / next image"),
        ("Ctrl+Z", "Undo"),
        ("Ctrl+Y or Ctrl+Shift+Z", "Redo"),
        ("Ctrl+Return", "Accept proposal (then the next)"),
        ("Ctrl+Backspace", "Reject proposal (then the next)"),
        (".", "Next proposal"),
        (",", "Previous proposal"),
        ("F2", "Relabel the selection: type the label, Enter picks (then the next proposal)"),
        (
            "Alt+1 / Alt+2 / Alt+3",
            "Disc state normal / bulge / herniation (then the next proposal); 1-3 in the "
            "Annotations list",
        ),
        ("Shift+I", "Annotations on / off"),
    ),
    *_group(
        "AI",
        ("Ctrl+R or Ctrl+Shift+A", "Analyze the study (AI proposals, findings)"),
    ),
    *_group(
        "Layout",
        ("Ctrl+1", "Layout 1x1"),
        ("Ctrl+2", "Layout 1x2"),
        ("Ctrl+3", "Layout 1x3"),
        ("Ctrl+4", "Layout 2x2"),
    ),
    *_group(
        "File",
        ("Ctrl+O", "Open folder"),
        ("Ctrl+Shift+O", "Open zip or DICOMDIR file"),
        ("Ctrl+E", "Export the report (preview, formats)"),
        ("Ctrl+Shift+C", "Copy the active view to the clipboard"),
        ("Ctrl+P", "Print the active view"),
        ("Ctrl+Shift+Q", "Query / retrieve from a PACS"),
        ("Ctrl+Q", "Quit"),
        ("F1", "Keyboard and mouse shortcuts"),
    ),
)


def bindings_by_group() -> dict[str, list[Binding]]:
    """The bindings grouped by :attr:`Binding.group`, groups in :data:`GROUPS` order."""
    grouped: dict[str, list[Binding]] = {group: [] for group in GROUPS}
    for binding in BINDINGS:
        grouped.setdefault(binding.group, []).append(binding)
    return {group: items for group, items in grouped.items() if items}


def binding_for(action: str) -> Binding:
    """The binding whose action is ``action``; KeyError naming the known actions if none."""
    for binding in BINDINGS:
        if binding.action == action:
            return binding
    known = ", ".join(sorted(b.action for b in BINDINGS))
    raise KeyError(f"no binding for action {action!r}; known actions: {known}")
