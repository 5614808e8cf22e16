"""MkDocs hook: the notebooks in ``notebooks/`` become pages of the site.

The notebooks live next to the code, not in ``docs/``, so that they run from a checkout as they
are. This hook adds each ``notebooks/*.ipynb`` to the site's files as ``notebooks/NAME.ipynb``;
the mkdocs-jupyter plugin then renders it with its stored outputs (nothing is executed while the
site builds: the test suite runs every notebook, and the committed outputs are what readers see).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mkdocs.plugins import event_priority
from mkdocs.structure.files import File, Files


@event_priority(100)  # before mkdocs-jupyter's on_files, which turns notebook files into pages
def on_files(files: Files, config: Any) -> Files:
    """Add every notebook of ``notebooks/`` to ``files`` (as ``notebooks/NAME.ipynb``)."""
    root = Path(config["config_file_path"]).resolve().parent
    for path in sorted((root / "notebooks").glob("*.ipynb")):
        files.append(File(f"notebooks/{path.name}", src_dir=str(root), dest_dir=config["site_dir"],
                          use_directory_urls=config["use_directory_urls"]))
    return files
