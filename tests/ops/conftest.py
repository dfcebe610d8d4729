"""The alert tests' fixtures (an ingest key, integrations), for the /metrics tests' webhook deliveries."""

from tests.alerts.conftest import ingest_key, make_integration  # noqa: F401  (fixtures)
