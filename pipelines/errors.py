"""Exit codes of the ``nvc`` command and the one-line error reporting around them."""

from __future__ import annotations

import sys
from collections.abc import Callable

from nvc.io.errors import VolumeLoadError
from nvc_pipelines.extras import install_hint, missing_extra

#: Exit codes (documented in the README).
EXIT_OK = 0
EXIT_USAGE = 2
EXIT_INPUT = 3
EXIT_ANALYSIS = 4
EXIT_OUTPUT = 5
EXIT_INTERRUPTED = 130  # Ctrl-C (128 + SIGINT), the shell convention


class AnalysisError(RuntimeError):
    """The inputs loaded but cannot be analysed (e.g. no overlap, failed registration)."""


class InputError(RuntimeError):
    """An input that is not an image cannot be read (e.g. a folder that is not a BIDS dataset)."""


class Cancelled(Exception):
    """Raised by a ``run_case`` progress callback to stop the analysis; it propagates unchanged."""


class UsageError(ValueError):
    """The command was asked something it must refuse (bad config, output over an input)."""


def run_guarded(func: Callable[[], int], prog: str = "nvc") -> int:
    """Run a command body; turn expected failures into one line on stderr and an exit code."""
    try:
        return func()
    except UsageError as exc:
        print(f"{prog}: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except (VolumeLoadError, InputError) as exc:
        print(f"{prog}: error: {exc}", file=sys.stderr)
        return EXIT_INPUT
    except AnalysisError as exc:
        print(f"{prog}: error: {exc}", file=sys.stderr)
        return EXIT_ANALYSIS
    except OSError as exc:
        name = getattr(exc, "filename", None) or ""
        print(f"{prog}: error: cannot write output {name}: {exc.strerror or exc}", file=sys.stderr)
        return EXIT_OUTPUT
    except MemoryError:
        print(f"{prog}: error: not enough memory to analyse these inputs", file=sys.stderr)
        return EXIT_ANALYSIS
    except ImportError as exc:
        extra = missing_extra(exc)
        if extra is None:
            raise
        print(f"{prog}: error: this command {install_hint(extra, exc.name)}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print(
            f"{prog}: interrupted; finished results are kept, nothing half-written", file=sys.stderr
        )
        return EXIT_INTERRUPTED
