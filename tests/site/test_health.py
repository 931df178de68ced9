import pytest
from django.core.cache import cache

pytestmark = [pytest.mark.django_db, pytest.mark.smoke]


def test_healthz_reports_every_part_up(client):
    response = client.get("/healthz/")

    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "checks": {"database": "up", "cache": "up", "queue": "up"},
    }


def test_healthz_answers_503_when_the_cache_is_down(client, monkeypatch):
    monkeypatch.setattr(cache, "get", lambda *args, **kwargs: None)

    response = client.get("/healthz/")

    assert response.status_code == 503
    assert response.json()["checks"]["cache"] == "down"
