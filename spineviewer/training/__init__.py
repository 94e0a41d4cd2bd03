"""Training and evaluation of SpineViewer's local models.

Two halves with different dependencies:

* **Training** modules use torch; they are imported lazily and need the optional
  extra ``train`` (``pip install spineviewer[train]``). Nothing here imports torch
  at package import time, so the viewer runs without it.
* **Evaluation** (:mod:`spineviewer.training.metrics`, :mod:`spineviewer.training.eval_report`)
  needs numpy only; plots use matplotlib when it is installed and are skipped otherwise.

Models trained on synthetic phantoms are demonstration models: not for clinical use.
"""
