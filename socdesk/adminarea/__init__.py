"""The console's admin area (/admin-area/): agents, departments, teams, roles, integrations and API keys,
in the console's own pages, written through the audited services. Django's admin stays for superusers."""
