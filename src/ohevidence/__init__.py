"""ohevidence: evidence synthesis for occupational-health intervention reviews."""

__version__ = "0.1.0"
