"""Sphinx configuration for the crmkit documentation.

Build with ``.ci/docs`` (``sphinx-build -W --keep-going -b html docs
docs/_build/html``): every warning is an error, the gallery in
``examples/`` is executed, and every public name of crmkit must appear in
the API reference (see ``_ext/crmkit_apicheck.py``).
"""

from __future__ import annotations

import inspect
import os
import sys
import warnings
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE / "_ext"))
if (ROOT / "src").is_dir():  # build from a checkout without installing it
    sys.path.insert(0, str(ROOT / "src"))

import crmkit_apicheck  # noqa: E402

import crmkit  # noqa: E402

os.environ.setdefault("MPLBACKEND", "Agg")

# -- project ---------------------------------------------------------------
project = "crmkit"
author = "crmkit developers"
copyright = "crmkit developers, MIT license"
release = crmkit.__version__
version = ".".join(release.split(".")[:2])

# -- general ---------------------------------------------------------------
extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "sphinx.ext.viewcode",
    "numpydoc",
    "myst_parser",
    "sphinx_gallery.gen_gallery",
]
source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
root_doc = "index"
templates_path = ["_templates"]
exclude_patterns = [
    "_build",
    "Thumbs.db",
    ".DS_Store",
    "auto_examples/*.ipynb",
    "auto_examples/*.py",
    "auto_examples/*.zip",
    "auto_examples/*.json",
    "auto_examples/*.md5",
    "auto_examples/*.pickle",
]
default_role = "py:obj"
nitpicky = False
suppress_warnings: list[str] = []

# The report screenshot is produced with the report itself; the page shows it when present.
REPORT_SCREENSHOT = HERE / "_static" / "report_screenshot.png"
_SCREENSHOT_MARKER = ".. report-screenshot"
_SCREENSHOT_FIGURE = """.. figure:: /_static/report_screenshot.png
   :alt: The first sections of the HTML customer-base report
   :width: 100%

   The top of a report on a synthetic customer base of 500 customers.
"""

# -- autodoc / autosummary / numpydoc --------------------------------------
autosummary_generate = True
autosummary_imported_members = True
autodoc_default_options = {"members": True, "show-inheritance": True}
autodoc_typehints = "none"  # numpydoc sections carry the types
autodoc_member_order = "groupwise"
autodoc_inherit_docstrings = True
autoclass_content = "class"
add_module_names = False

numpydoc_show_class_members = False
numpydoc_show_inherited_class_members = False
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False
numpydoc_attributes_as_param_list = True


# -- myst --------------------------------------------------------------------
myst_enable_extensions = ["dollarmath", "amsmath", "deflist"]
myst_heading_anchors = 3

# -- sphinx-gallery --------------------------------------------------------
sphinx_gallery_conf = {
    "examples_dirs": str(ROOT / "examples"),
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",
    "within_subsection_order": "FileNameSortKey",
    "download_all_examples": False,
    "remove_config_comments": True,
    "min_reported_time": 0,
    "abort_on_example_error": False,
    "capture_repr": ("_repr_html_", "__repr__"),
    "reset_modules": ("matplotlib",),
    "show_memory": False,
    "plot_gallery": "True",
    "image_scrapers": ("matplotlib",),
    "backreferences_dir": None,
    "doc_module": (),
    "write_computation_times": True,
}

# -- html ---------------------------------------------------------------------
html_theme = "pydata_sphinx_theme"
html_title = f"crmkit {release}"
html_static_path = ["_static"] if (HERE / "_static").is_dir() else []
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
    "header_links_before_dropdown": 6,
    "secondary_sidebar_items": ["page-toc"],
}
html_show_sourcelink = False

# Examples print DataWarnings only when the data asks for it; keep build logs quiet.
warnings.filterwarnings("ignore", message="Matplotlib is currently using agg")


def _drop_type_docstring(
    app: Any, what: str, name: str, obj: Any, options: Any, lines: list[str]
) -> None:
    """Constants without a doc comment: show no docstring, not their type's."""
    if what not in ("data", "attribute") or not lines:
        return
    text = inspect.cleandoc("\n".join(lines)).strip()
    for source in (type(obj), getattr(obj, "__origin__", None)):
        doc = getattr(source, "__doc__", None)
        if source is not None and doc and inspect.cleandoc(doc).strip() == text:
            lines.clear()
            return


def _report_screenshot(app: Any, docname: str, source: list[str]) -> None:
    """Replace the screenshot marker with the figure (or a note while it is missing)."""
    if _SCREENSHOT_MARKER in source[0]:
        if REPORT_SCREENSHOT.is_file():
            source[0] = source[0].replace(_SCREENSHOT_MARKER, _SCREENSHOT_FIGURE)
        else:
            from sphinx.util import logging

            logging.getLogger("crmkit.docs").info(
                "%s: no %s yet, the report page shows no screenshot", docname, REPORT_SCREENSHOT
            )


def _check_api(app: Any) -> None:
    """Warn (an error under ``-W``) for each public name missing from the API pages."""
    from sphinx.util import logging

    logger = logging.getLogger("crmkit.apicheck")
    for problem in crmkit_apicheck.missing_public_names(HERE / "api"):
        logger.warning("API reference incomplete: %s", problem)


def setup(app: Any) -> None:
    app.connect("builder-inited", _check_api)
    app.connect("autodoc-process-docstring", _drop_type_docstring, priority=100)
    app.connect("source-read", _report_screenshot)
