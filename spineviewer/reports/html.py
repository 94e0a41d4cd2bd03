"""The report as HTML, from the Jinja2 template ``resources/templates/report.html.j2``
(autoescaped: patient names and labels cannot inject markup)."""

from __future__ import annotations

from functools import cache

from jinja2 import Environment, FileSystemLoader, Template, select_autoescape

from spineviewer.reports.study_report import NOT_FOR_CLINICAL_USE, Report
from spineviewer.resources import resource_path

__all__ = ["render_html"]

TEMPLATE = "report.html.j2"


@cache
def _template() -> Template:
    folder = resource_path("templates", TEMPLATE).parent
    env = Environment(
        loader=FileSystemLoader(str(folder)), autoescape=select_autoescape(["j2", "html"])
    )
    return env.get_template(TEMPLATE)


def render_html(report: Report) -> str:
    """The whole HTML document of ``report``."""
    return _template().render(report=report, notice=NOT_FOR_CLINICAL_USE)
