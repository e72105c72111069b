"""A withdrawal notice: we no longer want the records; sent in the request's own thread (agent.filing.thread)
so the agency can close it. Its template uses the thread letter's names plus `reason` (one line, or empty)."""

WITHDRAWAL_TEMPLATE = "withdrawal.txt.j2"
