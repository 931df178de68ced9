"""The published OpenAPI document validates and lists every /api/v1/ route; the
reference page is served with its files from this site (no CDN)."""

import re

import pytest
from openapi_spec_validator import validate
from rest_framework.test import APIClient

from mailing.api.urls import router

pytestmark = pytest.mark.django_db


def openapi_path(regex: str) -> str:
    path = regex.removeprefix("^").removesuffix("$")
    return "/api/v1/" + re.sub(r"\(\?P<pk>[^)]*\)", "{id}", path)


def test_the_schema_validates_and_lists_every_route():
    answer = APIClient().get("/api/v1/schema/", HTTP_ACCEPT="application/json")
    assert answer.status_code == 200
    spec = answer.json()
    validate(spec)
    routes = {openapi_path(url.pattern.regex.pattern) for url in router.urls}
    assert len(routes) >= 20
    assert routes <= set(spec["paths"]), routes - set(spec["paths"])
    assert not [path for path in spec["paths"] if not path.startswith("/api/v1/")]
    assert spec["components"]["securitySchemes"]["bearerToken"]["scheme"] == "bearer"
    print(f"schema: {len(spec['paths'])} paths, {len(routes)} routes, valid")


def test_the_reference_page_loads_its_files_from_this_site():
    page = APIClient().get("/api/v1/docs/")
    assert page.status_code == 200
    html = page.content.decode()
    sources = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert any("swagger-ui" in source for source in sources), sources
    assert not [s for s in sources if s.startswith(("http:", "https:", "//"))]
