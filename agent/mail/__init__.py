"""Mail at the edges: IMAP and Maildir inboxes, SMTP sending, the raw archive, parsing."""
