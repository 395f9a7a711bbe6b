"""The OpenAPI schema builds without warnings, documents Bearer API keys and the one error body."""

import pytest
from django.core.management import call_command
from rest_framework.test import APIClient


def test_the_schema_builds_without_warnings(tmp_path):
    target = tmp_path / "schema.yml"
    # --fail-on-warn turns every drf-spectacular warning (e.g. an unresolvable serializer) into an error.
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(target))
    assert target.read_text().startswith("openapi: 3")


@pytest.mark.django_db
def test_the_served_schema_documents_bearer_auth_and_errors():
    response = APIClient().get("/api/v1/schema/?format=json")
    assert response.status_code == 200
    schema = response.json()
    assert schema["components"]["securitySchemes"]["ApiKey"]["type"] == "http"
    assert schema["components"]["securitySchemes"]["ApiKey"]["scheme"] == "bearer"
    endpoints = schema["paths"]["/api/v1/webhook-endpoints/"]
    assert {"ApiKey": []} in endpoints["get"]["security"]
    assert endpoints["post"]["responses"]["400"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Error"}
    assert set(schema["components"]["schemas"]["Error"]["properties"]["error"]["required"]) == {
        "code", "message", "fields"}
    assert "/api/v1/webhook-endpoints/{id}/rotate-secret/" in schema["paths"]
    assert "/api/v1/webhook-deliveries/{id}/redeliver/" in schema["paths"]
    assert "/api/v1/postbacks/" in schema["paths"]


@pytest.mark.django_db
def test_the_docs_page_is_served_from_local_assets():
    response = APIClient().get("/api/v1/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "swagger-ui" in html
    assert "cdn.jsdelivr.net" not in html and "unpkg.com" not in html
