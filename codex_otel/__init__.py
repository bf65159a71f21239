"""OpenTelemetry events for AI coding agents."""
