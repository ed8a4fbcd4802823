"""promoter: GitOps image promotion."""

__all__ = ["__version__"]

try:
    from promoter._version import __version__  # written by setuptools-scm at build/install
except ImportError:  # a source tree that was never built or installed
    __version__ = "0.0.0+unknown"
