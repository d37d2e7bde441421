"""Sphinx configuration of the mlx-lrsched documentation; build it with ``python docs/build.py``."""

from __future__ import annotations

import os
import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
sys.path.insert(0, str(DOCS / "_ext"))
sys.path.insert(0, str(DOCS.parent))  # the package from this checkout, installed or not
os.environ.setdefault("MPLBACKEND", "Agg")

from schedule_entries import DOCS_URL  # noqa: E402

import mlx_lrsched  # noqa: E402

project = "mlx-lrsched"
author = "the mlx-lrsched authors"
copyright = "the mlx-lrsched authors, MIT licence"
release = version = mlx_lrsched.__version__

extensions = [
    "myst_parser",
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
    "sphinx.ext.mathjax",
    "sphinx-mathjax-offline",  # MathJax 3 from the PyPI package, copied into _static: no CDN
    "schedule_pages",
]

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
root_doc = "index"
# pypi.md is the package index's description; examples/*.md is output that examples/compare.py wrote.
exclude_patterns = ["_build", "_ext", "pypi.md", "examples/*.md"]

myst_enable_extensions = ["dollarmath", "colon_fence", "deflist"]
myst_heading_anchors = 3

# Google-style docstrings with `.. math::` blocks and :math: roles.
napoleon_google_docstring = True
napoleon_numpy_docstring = False
napoleon_use_rtype = False
autodoc_member_order = "bysource"
autodoc_typehints = "signature"
autodoc_typehints_format = "short"
autodoc_class_signature = "mixed"
add_module_names = False

html_theme = "furo"
html_title = f"mlx-lrsched {release}"
html_baseurl = DOCS_URL
html_static_path = ["_static"]
html_css_files = ["custom.css"]
html_show_sourcelink = False
# No date or build time in the pages: the same sources give the same site.
html_last_updated_fmt = None
