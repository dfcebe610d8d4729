"""Writes for routing configuration, one module per concept: filters, schedules and SLA plans, help topics."""
