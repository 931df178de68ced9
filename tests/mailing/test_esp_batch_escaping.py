"""A batch email is run through the ESP's template engine: the user's own text
must come out as written, whatever of the ESP's syntax it holds."""

import re
from types import SimpleNamespace

import pytest

from mailing.rendering import PreparedMessage
from mailing.sending.capabilities import BATCH_SYNTAX
from mailing.sending.esp import batch_template, merge_values

# Each ESP's engine syntax, and some a newsletter could hold by chance.
USER_TEXT = (
    "{{ coupon }} {{{ raw }}} {% if x %} {# note #} [[var:name]] %recipient.email% "
    "%unsubscribe_url% %tag_unsubscribe_url% -email- -name- \ue002email\ue002 100%"
)
LINKS = SimpleNamespace(
    unsubscribe_url="https://s.example/u/t/",
    web_url="https://s.example/w/t/",
    tracking="tok",
    list_url="",
)


def prepared() -> PreparedMessage:
    return PreparedMessage(
        subject="Sale {{ coupon }} for {{ full_name }} %recipient.name%",
        text=f"Hi {{{{ full_name }}}}, {USER_TEXT} {{{{ unsubscribe_url }}}}",
        html=f"<p>Hi {{{{ full_name }}}}, {USER_TEXT}</p>",
    )


def field_pattern(syntax) -> re.Pattern:
    return re.compile(re.escape(syntax.field.format("KEY")).replace("KEY", r"(\w+)"))


def engine(template: str, syntax, values: dict[str, str]) -> str:
    """The ESP's substitution in one pass: each merge field by its value."""
    return field_pattern(syntax).sub(lambda m: values[m.group(1)], template)


@pytest.mark.parametrize("esp", sorted(BATCH_SYNTAX))
def test_the_users_text_reaches_each_recipient_as_written(esp):
    syntax = BATCH_SYNTAX[esp]
    message = prepared()
    template = batch_template(message, syntax, tracking=False)
    values = {**merge_values("Ann <A&B>", "ann@ex.org", LINKS), **template.literals}

    expected = message.render("Ann <A&B>", "ann@ex.org", LINKS.unsubscribe_url)
    assert engine(template.subject, syntax, values) == expected.subject
    assert engine(template.text, syntax, values) == expected.text
    assert engine(template.html, syntax, values) == expected.html
    # Nothing of the user's is left for the engine: only our merge fields.
    for part in (template.subject, template.text, template.html):
        left = field_pattern(syntax).sub("", part)
        assert not (syntax.active and re.search(syntax.active, left)), (esp, left)


@pytest.mark.parametrize("esp", sorted(BATCH_SYNTAX))
def test_html_safe_links_travel_once_and_unused_fields_not_at_all(esp):
    syntax = BATCH_SYNTAX[esp]
    message = prepared()
    safe = frozenset({"unsubscribe", "web"})
    template = batch_template(message, syntax, tracking=False, html_safe=safe)
    values = merge_values("Ann <A&B>", "ann@ex.org", LINKS, template.keys)

    expected = message.render("Ann <A&B>", "ann@ex.org", LINKS.unsubscribe_url)
    values.update(template.literals)
    assert engine(template.subject, syntax, values) == expected.subject
    assert engine(template.text, syntax, values) == expected.text
    assert engine(template.html, syntax, values) == expected.html
    # The name is escaped in the HTML; a link is the same either way.
    assert {"name", "name_html", "unsubscribe"} <= set(template.keys)
    assert not {"unsubscribe_html", "web_html", "list", "list_html", "tracking"} & set(
        template.keys
    )


def test_text_without_the_esps_syntax_needs_no_literal_fields():
    message = PreparedMessage("Hi {{ full_name }}", "Plain news, 100%.", "<p>News</p>")

    template = batch_template(message, BATCH_SYNTAX["mailgun"], tracking=False)

    assert template.literals == {}
