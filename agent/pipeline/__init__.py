"""Pure stages from a parsed message to a decision: match, clean, classify, extract, apply."""
