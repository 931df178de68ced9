"""The admin home's figures agree in number with their noun, in Russian too:
"1 рассылка", "3 рассылки", "5 рассылок" (not "1 рассылок всего")."""

import re

import pytest

from tests.factories import make_client, make_mailing, make_user

pytestmark = pytest.mark.django_db


def figure_line(content: str, name: str) -> str:
    line = rf'<li><strong data-figure="{name}">(\d+)</strong>([^<]*)</li>'
    found = re.search(line, content)
    assert found, f"no {name} figure on the admin home"
    return f"{found.group(1)}{found.group(2)}".strip()


@pytest.mark.parametrize(
    ("mailings", "expected"),
    [
        (1, "1 рассылка всего"),
        (3, "3 рассылки всего"),
        (5, "5 рассылок всего"),
        (21, "21 рассылка всего"),
    ],
)
def test_the_mailings_figure_agrees_with_its_number_in_russian(
    client, mailings, expected
):
    owner = make_user(language="ru")
    for n in range(mailings):
        make_mailing(owner, name=f"Letter {n}")
    client.force_login(owner)

    content = client.get("/admin/", headers={"accept-language": "ru"}).content.decode()

    assert figure_line(content, "mailings_total") == expected


def test_the_figures_read_naturally_in_english(client):
    owner = make_user(language="en")
    make_mailing(owner, name="Only one", clients=[make_client(owner)])
    client.force_login(owner)

    content = client.get("/admin/").content.decode()

    assert figure_line(content, "mailings_total") == "1 mailing in total"
    assert figure_line(content, "unique_clients") == "1 unique client"
    assert figure_line(content, "mailings_running") == "0 mailings running"


def test_the_last_30_days_name_each_figure_first(client):
    owner = make_user(language="ru")
    make_mailing(owner)
    client.force_login(owner)

    content = client.get("/admin/").content.decode()

    for label, name in (("Возвраты", "bounced"), ("Отписки", "unsubscribed")):
        assert f'<li>{label}: <strong data-figure="{name}">0</strong></li>' in content
