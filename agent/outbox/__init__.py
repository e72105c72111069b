"""The outbox: every outgoing mail is a row before it is a connection."""
