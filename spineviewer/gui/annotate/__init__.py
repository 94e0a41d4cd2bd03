"""Annotation tools of the viewer: drawing, editing, review panel and worklist.

The annotations themselves (model, undo, store, exchange) live in
:mod:`spineviewer.annotations`; this package only edits and shows them.
"""
