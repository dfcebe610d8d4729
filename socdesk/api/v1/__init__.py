"""REST API v1 (django-ninja): one router module per domain, mounted by `socdesk.api.v1.api`."""
