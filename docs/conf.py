"""Sphinx configuration: ``sphinx-build -W -b html docs docs/_build/html``.

Builds the user guide, a gallery made by running every script in ``examples/``
(sphinx-gallery), an API reference with one page per public name (autosummary, recursive,
numpydoc; ``__all__`` of each module says what is public), and a command-line reference
generated from the parser itself.
"""

import os
import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
sys.path.insert(0, str(DOCS.parent))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("MPLBACKEND", "Agg")

project = "skdenoise"
author = "skdenoise developers"
release = version = "0.1.0"
extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.viewcode",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
    "myst_parser",
]
source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
templates_path = ["_templates"]
exclude_patterns = ["_build", "auto_examples/*.ipynb", "auto_examples/*.py", "**/*.zip"]

autosummary_generate = True
autosummary_ignore_module_all = False  # __all__ decides what is public
autodoc_typehints = "none"
autodoc_default_options = {
    "members": True,
    "inherited-members": False,
    # scikit-learn generates these on estimators whose fit/predict/score take metadata.
    "exclude-members": "set_fit_request,set_predict_request,set_score_request,"
    "set_transform_request",
}
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False
numpydoc_validation_checks = set()

# No intersphinx: the build must work offline (CI machines reach package registries only).
suppress_warnings = ["myst.header", "myst.xref_missing", "config.cache"]

sphinx_gallery_conf = {
    "examples_dirs": "../examples",
    "gallery_dirs": "auto_examples",
    "filename_pattern": r".*\.py$",  # run every example, not only plot_*.py
    "download_all_examples": False,
    "remove_config_comments": True,
    "reset_argv": lambda gallery_conf, script_vars: [],
    "min_reported_time": 0,
    "only_warn_on_example_error": False,
    "abort_on_example_error": True,
    "plot_gallery": "True",
}

html_theme = "alabaster"
html_static_path = []


def _write_cli_reference(app) -> None:
    """``docs/generated/cli_reference.rst``: every subcommand's ``--help``, from the parser."""
    from skdenoise.cli import build_parser

    parser = build_parser()
    out = DOCS / "generated"
    out.mkdir(exist_ok=True)
    lines = [
        "Command-line reference",
        "======================",
        "",
        "Generated from the parser at build time (``skdenoise SUBCOMMAND --help`` prints",
        "the same).",
        "",
        ".. code-block:: text",
        "",
    ]
    lines += ["   " + line for line in parser.format_help().splitlines()]
    sub = next(a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction")
    for name, subparser in sub.choices.items():
        lines += ["", f"skdenoise {name}", "-" * (10 + len(name)), "", ".. code-block:: text", ""]
        lines += ["   " + line.rstrip() for line in subparser.format_help().splitlines()]
    text = "\n".join(lines) + "\n"
    path = out / "cli_reference.rst"
    if not path.exists() or path.read_text() != text:
        path.write_text(text)


def setup(app):
    app.connect("builder-inited", _write_cli_reference)
