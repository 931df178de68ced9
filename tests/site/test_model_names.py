"""Every model of ours names its plural: Django's fallback appends an English "s"
to the Russian name, and Wagtail's page-type report showed "Главная страницаs"."""

import pytest
from django.apps import apps
from django.urls import reverse
from django.utils import translation

from tests.factories import make_user

OUR_APPS = ("accounts", "archive", "blog", "home", "mailing")


def test_each_model_names_its_plural_in_russian():
    fallbacks = []
    with translation.override("ru"):
        for model in apps.get_models():
            if model._meta.app_label not in OUR_APPS:
                continue
            single = str(model._meta.verbose_name)
            plural = str(model._meta.verbose_name_plural)
            if plural == f"{single}s":
                fallbacks.append(f"{model._meta.label}: {plural}")
    assert fallbacks == []


@pytest.mark.django_db
def test_the_page_type_usage_of_the_home_page_reads_russian(client):
    client.force_login(make_user("editor", language="ru"))
    response = client.get(
        reverse("wagtailadmin_pages:type_use", args=["home", "homepage"])
    )

    assert response.status_code == 200
    assert "страницаs" not in response.content.decode()
    assert "Главные страницы" in response.content.decode()
