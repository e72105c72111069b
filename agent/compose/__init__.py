"""Turning data into mail: templates, letters, follow-ups, digests."""
