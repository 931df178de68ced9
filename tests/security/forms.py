"""Reading the <form>s of a page, so the hostile-input suite can fill and post them."""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser

TEXT_TYPES = {"text", "email", "search", "url", "tel", "password", "textarea", None}
ERROR_MARKERS = (
    "errorlist",  # Django's form errors
    "invalid-feedback",  # Bootstrap
    "error-message",  # Wagtail admin
    "w-field--error",
    "w-field__errors",
    "help-critical",
    "alert-danger",
    'role="alert"',
)


# Pages that answer a valid POST with 200 on purpose: what was made is shown once
# and never again (a new API token, as Wagtail's own token view does), so there is
# no redirect to a page that could show it.
SHOWN_ONCE_MARKERS = ('data-testid="new-token"',)


def shows_what_it_made(html: str) -> bool:
    return any(marker in html for marker in SHOWN_ONCE_MARKERS)


@dataclass
class Form:
    action: str
    method: str
    fields: list[tuple[str, str | None, str]] = field(default_factory=list)
    choices: dict[str, list[str]] = field(default_factory=dict)
    # <input type="file">: name and its accept attribute
    files: list[tuple[str, str]] = field(default_factory=list)

    @property
    def signature(self) -> tuple:
        return (self.action, tuple(sorted(name for name, _, _ in self.fields)))

    def text_fields(self) -> list[str]:
        return [name for name, kind, _ in self.fields if kind in TEXT_TYPES]

    def data(self, values: dict[str, str]) -> dict[str, str]:
        """The form as a browser would send it, with `values` in the text fields."""
        data = {}
        for name, kind, value in self.fields:
            if kind in ("checkbox", "radio") and not value:
                continue
            data.setdefault(name, values.get(name, value))
        for name, options in self.choices.items():
            data.setdefault(name, options[0] if options else "")
        return data


class FormParser(HTMLParser):
    def __init__(self, page_path: str):
        super().__init__()
        self.page_path = page_path
        self.forms: list[Form] = []
        self._form: Form | None = None
        self._select: str | None = None
        self._textarea: str | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if self._form is not None and attrs.get("data-controller") == "w-block":
            # A Wagtail StreamField: its inputs are built by JavaScript, which always
            # sends the block count. An empty stream is what a browser posts when
            # every block is removed.
            self._form.fields.append((f"{attrs['id']}-count", "hidden", "0"))
            return
        if tag == "form":
            self._form = Form(
                action=attrs.get("action") or self.page_path,
                method=(attrs.get("method") or "get").lower(),
            )
            self.forms.append(self._form)
        if tag == "option" and self._select and attrs.get("value"):
            self._form.choices[self._select].append(attrs["value"])
        if self._form is None or not attrs.get("name"):
            return
        name = attrs["name"]
        if tag == "input" and attrs.get("type") == "file":
            self._form.files.append((name, attrs.get("accept", "")))
        elif tag == "input" and attrs.get("type") not in (
            "submit",
            "button",
            "file",
            "image",
        ):
            kind = attrs.get("type")
            checked = "checked" in attrs or kind not in ("checkbox", "radio")
            self._form.fields.append(
                (name, kind, attrs.get("value", "") if checked else "")
            )
        elif tag == "textarea":
            self._form.fields.append((name, "textarea", ""))
        elif tag == "select":
            self._select = name
            self._form.choices.setdefault(name, [])

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None
        if tag == "select":
            self._select = None


def post_forms(html: str, page_path: str) -> list[Form]:
    parser = FormParser(page_path)
    parser.feed(html)
    return [form for form in parser.forms if form.method == "post"]


def shows_an_error(html: str) -> bool:
    return any(marker in html for marker in ERROR_MARKERS)
