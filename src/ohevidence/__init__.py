"""ohevidence: evidence synthesis for occupational-health intervention reviews."""

__version__ = "0.2.0"
