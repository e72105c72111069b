"""Requests: our references, reply addresses, and the state machine over agency replies."""
