"""promoter: GitOps image promotion."""

__version__ = "0.1.0"
