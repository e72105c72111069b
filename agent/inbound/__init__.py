"""Inbound mail as a unit of work: fetch, archive, record with the checkpoint, then process."""
