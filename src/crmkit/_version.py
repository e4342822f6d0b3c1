"""The crmkit version."""

__version__ = "0.1.0.dev0"
