"""The long-running process: scheduler, signals, logs, status and the inbox lock."""
