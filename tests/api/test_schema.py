import re

import pytest
import yaml
from django.core.management import call_command


@pytest.mark.django_db
def test_the_schema_validates_without_warnings(tmp_path):
    target = tmp_path / "schema.yaml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(target))
    schema = yaml.safe_load(target.read_text())
    assert set(schema["paths"]) >= {
        "/api/v1/contacts/",
        "/api/v1/contacts/bulk/",
        "/api/v1/contacts/{id}/",
        "/api/v1/responses/",
    }


@pytest.mark.django_db
def test_every_field_has_a_description_and_every_error_is_documented(client):
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/json").json()
    for name, component in schema["components"]["schemas"].items():
        for field, definition in component.get("properties", {}).items():
            assert definition.get("description") or "$ref" in str(definition), f"{name}.{field}"
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            assert "401" in operation["responses"], (path, method)
            if method == "post":
                assert {"400", "413"} <= set(operation["responses"]), (path, method)
                assert operation["requestBody"]["content"]["application/json"]["examples"]
    assert "404" in schema["paths"]["/api/v1/contacts/{id}/"]["get"]["responses"]
    assert schema["components"]["securitySchemes"]["ApiKey"]["name"] == "Authorization"


@pytest.mark.django_db
def test_the_docs_page_loads_nothing_from_other_sites(client):
    page = client.get("/api/docs/")
    assert page.status_code == 200
    html = page.content.decode()
    assets = re.findall(r'(?:src|href)="([^"]+)"', html) + re.findall(r"(?:url|src)\s*[:=]\s*['\"]([^'\"]+)", html)
    assert any("swagger-ui" in a for a in assets)
    for asset in assets:
        assert asset.startswith(("/static/", "/api/")), asset
    # No address of another site anywhere in the page, a CDN's included (the page also holds a random
    # CSRF token, which may spell "cdn" by chance: the test looked for those three letters before).
    assert "://" not in html
    assert not re.search(r"\bcdn[\w-]*\.", html.lower())
