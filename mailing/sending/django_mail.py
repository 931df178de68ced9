"""The one place that leans on Django's undocumented email helpers, for the MIME
builder (sending.mime). Django's own EmailMessage encodes addresses and headers with
them; writing each email ourselves (one per recipient, no email.message tree) must
encode exactly as Django would. tests/mailing/test_django_mail_upstream.py fails
when an upgrade changes what is leaned on here, so the fix starts and ends here.
"""

from django.core.mail.message import forbid_multi_line_headers, sanitize_address


def encoded_address(address: str) -> str:
    """An address as Django puts it on the wire: IDN domain in punycode, a non-ASCII
    name RFC 2047-encoded; ValueError for one it refuses (a newline, no domain)."""
    return sanitize_address(address, "utf-8")


def encoded_header(name: str, value: str) -> str:
    """A header's value as Django encodes it (non-ASCII text in RFC 2047 words);
    BadHeaderError for a value with a newline."""
    return forbid_multi_line_headers(name, value, "utf-8")[1]
