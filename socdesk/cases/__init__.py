"""Working a case: tasks on a ticket and playbooks (versioned task lists applied to tickets).

Sits above routing (playbooks name custom fields; ticket filters and help topics apply them) and below
alerts and mail. Tickets knows nothing of it: the status service asks the `before_resolve` hook
(socdesk/tickets/hooks.py), which this app registers when it loads.
"""
