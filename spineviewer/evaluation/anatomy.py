"""One patient's anatomy: the column, its canal and every structure as painted primitives.

:func:`build_anatomy` draws a :class:`~spineviewer.evaluation.column.Column` and paints, in
order: the soft tissues (:mod:`~spineviewer.evaluation.trunk`), the discs
(:mod:`~spineviewer.evaluation.disc_shapes`), the bones (:mod:`~spineviewer.evaluation.bones`),
the canal (:mod:`~spineviewer.evaluation.canal`) and the posterior disc margins of discs that
bulge or herniate. Independent random streams (geometry, disc conditions, canal and soft
tissues, textures) keep each draw from shifting the others.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from spineviewer.evaluation.bones import bone_primitives
from spineviewer.evaluation.canal import CanalNode, canal_nodes, canal_primitives
from spineviewer.evaluation.column import Column, ColumnPlan, build_column
from spineviewer.evaluation.disc_shapes import disc_primitives, protrusion_primitives
from spineviewer.evaluation.scene import Primitive
from spineviewer.evaluation.trunk import trunk_primitives

__all__ = ["Anatomy", "build_anatomy"]


@dataclass(frozen=True)
class Anatomy:
    """The column, its canal nodes, the primitives in painting order and the drawn sizes."""

    column: Column
    canal: tuple[CanalNode, ...]
    primitives: tuple[Primitive, ...]
    age: float
    parameters: dict[str, float]


def build_anatomy(seed_sequence: np.random.SeedSequence, plan: ColumnPlan) -> Anatomy:
    """Draw the anatomy of one study from its own branch of the study's seed."""
    geometry, conditions, soft, grain, person = (
        np.random.default_rng(s) for s in seed_sequence.spawn(5)
    )
    age = float(person.uniform(22.0, 78.0))
    column = build_column(geometry, conditions, age, plan)
    nodes = canal_nodes(column, soft)
    trunk, sizes = trunk_primitives(column, nodes, soft)
    painted: list[Primitive] = list(trunk)
    for disc in column.discs:
        painted += disc_primitives(disc)
    painted += bone_primitives(column, nodes, plan.sacralised_l5, grain)
    painted += canal_primitives(nodes, soft)
    for disc in column.discs:
        painted += protrusion_primitives(disc)
    parameters = {"age_years": round(age, 1), **column.parameters, **sizes}
    return Anatomy(column, nodes, tuple(painted), age, parameters)
