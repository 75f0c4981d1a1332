"""``nvc view RESULTS_DIR``: open a results folder in napari (through the nvc reader plugin).

napari is optional: it is imported here only, and its absence is a one-line usage error.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from nvc_pipelines.errors import EXIT_OK, EXIT_USAGE, UsageError, run_guarded
from nvc_pipelines.results import is_results_folder


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``nvc view``."""
    parser.add_argument("results", type=Path, help="results folder written by nvc run")


def run(args: argparse.Namespace) -> int:
    """Open napari with the nvc analysis widget, which reads the folder in a worker thread."""

    def body() -> int:
        if not is_results_folder(args.results):
            raise UsageError(f"{args.results} is not an nvc results folder (no findings.json)")
        try:
            import napari
        except ImportError:
            print(
                "nvc: error: napari is not installed (pip install 'nvc[napari]')", file=sys.stderr
            )
            return EXIT_USAGE
        viewer = napari.Viewer(title=f"nvc: {args.results}")
        _, widget = viewer.window.add_plugin_dock_widget("nvc", "nvc analysis")
        # read in the widget's worker thread: the window shows at once and stays
        # responsive (viewer.open would read on the GUI thread before it appears)
        widget.open_folder(args.results)
        napari.run()
        return EXIT_OK

    return run_guarded(body)
