"""Issue 11 item 5: the OpenAPI document declares how to sign in and every error, with one error body.
(The schemathesis run in test_api_fuzz.py holds the live hub to it; this checks the document's shape.)"""

from __future__ import annotations

from typing import Any

import pytest

from vakt.hub.app import create_app
from vakt.hub.settings import HubSettings

PUBLIC = {
    ("get", "/api/health"),
    ("post", "/api/auth/login"),
    ("post", "/api/auth/register"),
    # voice assistants (issue 13): their servers authenticate as OAuth clients or with the OAuth token
    ("post", "/api/oauth/token"),
    ("post", "/api/oauth/revoke"),
    ("post", "/api/alexa/v3"),
    ("get", "/api/alexa/image/{token}"),
    ("post", "/api/google/fulfillment"),
}


@pytest.fixture(scope="module")
def document(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    settings = HubSettings(data_dir=tmp_path_factory.mktemp("data"), mqtt_enabled=False)
    return dict(create_app(settings).openapi())


def _operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [(m, p, op) for p, item in document["paths"].items() for m, op in item.items()]


def test_issue11_security_schemes_are_the_bearer_token_and_the_session_cookie(
    document: dict[str, Any],
) -> None:
    schemes = document["components"]["securitySchemes"]
    assert schemes["bearer"] == {
        "type": "http",
        "scheme": "bearer",
        "description": schemes["bearer"]["description"],
    }
    assert schemes["cookie"]["in"] == "cookie" and schemes["cookie"]["name"] == "vakt_session"
    for method, path, operation in _operations(document):
        if (method, path) in PUBLIC:
            assert "security" not in operation, (method, path)
        else:
            assert operation.get("security") == [{"bearer": []}, {"cookie": []}], (method, path)
            assert {"401", "403"} <= set(operation["responses"]), (method, path)


def test_issue11_every_error_has_the_one_error_body(document: dict[str, Any]) -> None:
    schemas = document["components"]["schemas"]
    assert "HTTPValidationError" not in schemas and set(schemas["ErrorOut"]["required"]) == {
        "message",
        "detail",
    }
    for method, path, operation in _operations(document):
        responses = operation["responses"]
        assert "400" in responses, (method, path)
        if "{" in path:
            assert "404" in responses, (method, path)
        if "requestBody" in operation:
            assert {"413", "422"} <= set(responses), (method, path)
        for code, response in responses.items():
            if code[0] in "45":
                assert response["content"]["application/json"]["schema"] == {
                    "$ref": "#/components/schemas/ErrorOut"
                }, (method, path, code)
    assert "429" in document["paths"]["/api/auth/login"]["post"]["responses"]
    assert {"409", "429", "504"} <= set(
        document["paths"]["/api/locks/{device_id}/unlock"]["post"]["responses"]
    )


def test_issue11_ids_and_instants_are_bounded_in_the_document(document: dict[str, Any]) -> None:
    parameters = document["paths"]["/api/devices/{device_id}"]["get"]["parameters"]
    device_id = next(p for p in parameters if p["name"] == "device_id")["schema"]
    assert device_id["minimum"] == 1 and device_id["maximum"] == 2**31 - 1
