"""Error answers the OpenAPI document promises: a 405 names every method of the path; bad JSON is a 422."""

from __future__ import annotations

from fastapi.testclient import TestClient


def test_a_405_lists_every_method_the_path_answers(client: TestClient) -> None:
    for method in ("OPTIONS", "PUT", "PATCH", "GET"):
        response = client.request(method, "/api/v1/session")
        assert response.status_code == 405
        assert response.headers["allow"] == "POST, DELETE"  # two routes share the path
        assert response.json()["error"] == "HTTPException"
    assert client.request("OPTIONS", "/api/v1/me").headers["allow"] == "GET"


def test_malformed_json_is_a_documented_422_whatever_the_bytes(client: TestClient) -> None:
    for body in (b"{", b"\xff\xfe\x00{", b"caf\xe9"):
        response = client.post("/api/v1/session", content=body, headers={"content-type": "application/json"})
        assert response.status_code == 422, (body, response.text)
        assert response.json()["detail"][0]["type"] == "json_invalid"
    spec = client.get("/api/v1/openapi.json").json()
    assert "422" in spec["paths"]["/api/v1/session"]["post"]["responses"]


def test_errors_of_signed_in_operations_are_documented_with_their_body(client: TestClient) -> None:
    spec = client.get("/api/v1/openapi.json").json()
    me = spec["paths"]["/api/v1/me"]["get"]["responses"]["401"]
    assert me["content"]["application/json"]["schema"]["$ref"].endswith("ErrorOut")
    body = client.get("/api/v1/me").json()
    assert set(body) == {"error", "detail"}
