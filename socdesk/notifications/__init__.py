"""Notifications for agents, in the console (the bell) and by email: ticket events and SLA escalations."""
