"""Sphinx configuration of the tailreg documentation site.

Build with ``python -m sphinx -W --keep-going -b html docs docs/_build/html`` (README's docs
command). The study pages are written from the installed studies before the build
(``_studies.py``); the gallery examples in ``docs/examples`` run at build time.
"""

from __future__ import annotations

import sys
from importlib import metadata
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import _studies  # noqa: E402  (the docs folder is put on the path just above)

project = "tailreg"
author = "tailreg developers"
copyright = "2026, tailreg developers"
release = metadata.version("tailreg")
version = release

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "sphinx.ext.viewcode",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
]

autosummary_generate = True
# scikit-learn's metadata-routing helpers are attached to every estimator class; their
# docstrings point into scikit-learn's own site and say nothing about tailreg
autodoc_default_options = {
    "exclude-members": "set_fit_request, set_score_request, set_predict_request, "
    "set_partial_fit_request, get_metadata_routing",
}
autodoc_typehints = "none"
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_attributes_as_param_list = False

sphinx_gallery_conf = {
    "examples_dirs": "examples",
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",
    "download_all_examples": False,
    "remove_config_comments": True,
    "abort_on_example_error": True,
}

templates_path = ["_templates"]
exclude_patterns = ["_build", "examples", "auto_examples/*.ipynb", "auto_examples/*.py"]
html_theme = "pydata_sphinx_theme"
html_title = f"tailreg {release}"
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
}
html_static_path: list[str] = []


def setup(app):
    _studies.write_pages(HERE / "studies", HERE.parent / "results")
