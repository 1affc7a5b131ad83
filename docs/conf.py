"""Sphinx configuration: ``sphinx-build -b html docs docs/_build/html``."""

import os
import sys

sys.path.insert(0, os.path.abspath(".."))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

project = "skdenoise"
author = "skdenoise developers"
release = version = "0.1.0"
extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.viewcode",
    "numpydoc",
]
autosummary_generate = True
numpydoc_show_class_members = False
autodoc_typehints = "none"
html_theme = "alabaster"
exclude_patterns = ["_build"]
