"""OpenAPI 3 document and the browsable docs, served from our own static files (no CDN)."""

from __future__ import annotations

import os
import re
from pathlib import Path
from urllib.parse import urlparse

import pytest
from django.contrib.staticfiles import finders
from django.test import Client

pytestmark = pytest.mark.django_db


def test_openapi_document():
    r = Client().get("/api/v1/openapi.json")
    assert r.status_code == 200
    schema = r.json()
    assert schema["openapi"].startswith("3.")
    paths = schema["paths"]
    for path in (
        "/api/v1/tickets",
        "/api/v1/tickets/{number}",
        "/api/v1/tickets/{number}/thread",
        "/api/v1/attachments/{attachment_id}",
        "/api/v1/me/tokens",
        "/api/v1/me/tokens/{prefix}",
    ):
        assert path in paths
    assert {"get", "post"} <= set(paths["/api/v1/tickets"]) and "patch" in paths["/api/v1/tickets/{number}"]
    schemes = {s["type"] for s in schema["components"]["securitySchemes"].values()}
    assert {"apiKey", "http"} <= schemes
    list_params = {p["name"] for p in paths["/api/v1/tickets"]["get"]["parameters"]}
    assert {
        "status",
        "severity",
        "department",
        "assignee",
        "team",
        "source",
        "tag",
        "q",
        "cursor",
        "limit",
    } <= list_params


def test_docs_page_uses_only_our_static_files():
    html = Client().get("/api/v1/docs").content.decode()
    sources = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert sources, html
    for source in sources:
        assert not urlparse(source).netloc, f"{source} would be fetched from another host"
        assert source.startswith("/static/")
        assert finders.find(source.removeprefix("/static/")), f"{source} is not in our static files"
    assert "cdn" not in html.lower()


@pytest.mark.browser
def test_docs_render_in_a_real_browser_without_leaving_the_server(live_server, page, tmp_path):
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    if not Path("/usr/bin/chromium").exists() and not os.environ.get("CI"):
        pytest.skip("Debian's chromium is not installed (apt-get install -y chromium)")
    requested = []
    page.on("request", lambda request: requested.append(request.url))
    page.goto(f"{live_server.url}/api/v1/docs")
    page.get_by_text("/api/v1/tickets/{number}/thread", exact=True).first.wait_for(timeout=20_000)
    page.screenshot(path=os.environ.get("SOCDESK_SCREENSHOT_DIR", str(tmp_path)) + "/api-docs.png")
    hosts = {urlparse(url).netloc for url in requested if not url.startswith("data:")}
    assert hosts == {urlparse(live_server.url).netloc}, requested
