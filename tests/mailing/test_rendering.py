from types import SimpleNamespace

import pytest
from django.urls import reverse

from mailing.models import Message
from mailing.rendering import Filler, compile_template, pieces, render_email
from tests.factories import make_message, make_user

UNSUBSCRIBE = "https://vestnik.example/unsubscribe/token/"

pytestmark = pytest.mark.django_db


def message(subject="Hi {{ full_name }}", body="", html_body=""):
    """An unsaved message of a new owner, in the shared layout of their language."""
    return Message(owner=make_user(), subject=subject, body=body, html_body=html_body)


def client(full_name="Анна", email="anna@example.org"):
    return SimpleNamespace(full_name=full_name, email=email)


def test_whitelisted_placeholders_are_filled_in_every_part():
    rendered = render_email(
        message(body="{{full_name}} <{{ email }}>: {{ unsubscribe_url }}"),
        client(),
        UNSUBSCRIBE,
    )

    assert rendered.subject == "Hi Анна"
    assert rendered.text.startswith(f"Анна <anna@example.org>: {UNSUBSCRIBE}\n")
    assert "Анна &lt;anna@example.org&gt;" in rendered.html


def test_template_probes_come_out_literally():
    probe = "{{ settings.SECRET_KEY }} {% debug %} {{ full_name.__class__ }}"

    rendered = render_email(message(subject=probe, body=probe), client(), UNSUBSCRIBE)

    assert rendered.subject == probe
    assert rendered.text.startswith(probe + "\n")


def test_line_breaks_never_reach_the_subject():
    rendered = render_email(
        message(subject="Hi {{ full_name }}"),
        client(full_name="Eve\r\nBcc: victim@example.org"),
        UNSUBSCRIBE,
    )

    assert "\r" not in rendered.subject and "\n" not in rendered.subject
    assert rendered.subject == "Hi Eve Bcc: victim@example.org"


def test_user_html_is_sanitised_and_values_escaped():
    rendered = render_email(
        message(html_body='<p onclick="x()">Hi {{ full_name }}</p><script>x</script>'),
        client(full_name="<img src=x onerror=alert(1)>"),
        UNSUBSCRIBE,
    )

    assert "<script" not in rendered.html
    assert "onclick" not in rendered.html
    assert "onerror=alert" not in rendered.html.replace("&lt;img src=x onerror", "")
    assert "&lt;img src=x onerror=alert(1)&gt;" in rendered.html


def test_html_written_around_the_editor_is_stored_sanitised_and_editable(client):
    owner = make_user()
    message = make_message(
        owner,
        html_body='<p><b>Hi</p><script>x</script><a href="/x" onclick="x()">l</a>',
    )
    message.refresh_from_db()
    client.force_login(owner)

    response = client.get(reverse("mailing_message:edit", args=[message.pk]))

    assert "<script" not in message.html_body
    assert "onclick" not in message.html_body
    assert "<b>Hi</b>" in message.html_body
    assert response.status_code == 200


# --- Merge tags for client attributes (issue 12) ----------------------------------


def attributed(attributes=None, full_name="Анна"):
    return SimpleNamespace(
        full_name=full_name, email="anna@example.org", attributes=attributes
    )


def test_attribute_merge_tags_with_fallbacks_fill_every_part():
    letter = message(
        subject='{{ first_name|default:"друг" }}, {{ city }}!',
        body='Привет, {{ first_name|default:"друг" }} из {{ city|default:"России" }}; '
        'баллов: {{ score }}; {{ full_name|default:"без имени" }}',
    )

    known = render_email(
        letter,
        attributed({"first_name": "Аня", "city": "Казани", "score": 7}),
        UNSUBSCRIBE,
    )
    missing = render_email(letter, attributed({}, full_name=""), UNSUBSCRIBE)

    assert known.subject == "Аня, Казани!"
    assert known.text.startswith("Привет, Аня из Казани; баллов: 7; Анна\n")
    assert missing.subject == "друг, !"
    assert missing.text.startswith("Привет, друг из России; баллов: ; без имени\n")


def test_hostile_attribute_values_are_text_not_templates():
    letter = message(
        subject="{{ city }}",
        body="{{ city }} {{ note }}",
        html_body="<p>{{ city }}</p>",
    )
    hostile = {
        "city": "{{ email }} {0} {m0} {% debug %}",
        "note": "<script>alert(1)</script>\r\nBcc: x@example.org",
    }

    rendered = render_email(letter, attributed(hostile), UNSUBSCRIBE)

    assert rendered.subject == "{{ email }} {0} {m0} {% debug %}"
    assert rendered.text.startswith(
        "{{ email }} {0} {m0} {% debug %} <script>alert(1)</script> Bcc: x@example.org"
    )
    assert "<script>" not in rendered.html
    assert "{{ email }} {0} {m0} {% debug %}</p>" in rendered.html


def test_a_tag_that_is_not_a_merge_tag_stays_literal():
    probe = "{{ city|upper }} {{ city|default:x }} {{ City }} {{ a.b }}"

    rendered = render_email(message(subject=probe), attributed({"city": "K"}), "")

    assert rendered.subject == probe


def test_a_fallback_with_an_ampersand_is_escaped_once_in_html():
    # The rich text editor stores "&" as &amp; and may quote with &quot;.
    letter = message(
        subject='{{ team|default:"Кошки & собаки" }}',
        html_body='<p>{{ team|default:"Кошки &amp; собаки" }} / '
        "{{ team|default:&quot;A &amp; B&quot; }}</p>",
    )

    rendered = render_email(letter, attributed({}), UNSUBSCRIBE)

    assert rendered.subject == "Кошки & собаки"
    assert ">Кошки &amp; собаки / A &amp; B</p>" in rendered.html
    assert "&amp;amp;" not in rendered.html
    assert "Кошки & собаки / A & B" in rendered.text


@pytest.mark.parametrize(
    "template",
    [
        "",
        "{{ full_name }}",
        "{{ full_name }}{{ email }}",
        "a {b} {{ email }} c {{d}} {{ full_name }} e",
        "<style>p {color: red} a {x: y}</style>\r\n<p>{{ email }}</p>{{ full_name }}",
    ],
)
def test_the_filler_joins_literals_and_values_in_order(template):
    """rendering.Filler (runs of literals joined, a slot per field) writes what
    joining each piece's literal and value writes."""
    parts = pieces(compile_template(template))
    values = {"full_name": "Ann {x}", "email": "a@example.org"}

    expected = "".join(
        literal + values.get(field or "", "") for literal, field in parts
    )
    assert Filler(parts)(values) == expected
    assert len(Filler(parts).flat) <= 2 * template.count("{{ ") + 1
