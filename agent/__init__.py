"""records-agent: files public-records requests by email and keeps after the agencies that owe answers."""

__version__ = "0.1.0"
