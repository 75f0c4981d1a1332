"""nvc: neurovascular compression analysis of the facial nerve root exit zone.

Research use only, not for diagnosis.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("nvc")
except PackageNotFoundError:  # running from a source tree that was not installed
    __version__ = "0.0.0+unknown"

DISCLAIMER = "Research use only, not for diagnosis."

__all__ = ["DISCLAIMER", "__version__"]
