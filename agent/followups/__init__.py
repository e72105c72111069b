"""Follow-ups: when to remind an agency of its deadline, and the scan that queues the reminders."""
