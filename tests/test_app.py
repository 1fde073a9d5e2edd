"""The app starts, describes itself and answers errors in the one shape."""


def test_openapi_describes_the_api(client):
    response = client.get("/api/openapi.json")
    assert response.status_code == 200
    assert response.json["openapi"].startswith("3.")


def test_unknown_api_path_is_a_json_404(client):
    response = client.get("/api/nothing-here")
    assert response.status_code == 404
    assert response.json == {
        "error": {"code": "not_found", "message": "Nothing is here.", "fields": {}}
    }


def test_wrong_method_is_a_json_405(client):
    response = client.delete("/api/openapi.json")
    assert response.status_code == 405
    assert response.json["error"]["code"] == "method_not_allowed"
