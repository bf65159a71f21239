"""Names written once: events, instruments, spans, analytics event types."""
