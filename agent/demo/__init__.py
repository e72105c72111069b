"""`agent demo`: the whole loop against simulated agencies on an accelerated clock, no outside server."""
