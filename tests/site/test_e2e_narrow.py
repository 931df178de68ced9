"""The public chrome on a phone's width (375 px), in Chromium."""

import pytest

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


@pytest.mark.parametrize("path", ["/accounts/signup/", "/en/accounts/signup/"])
def test_the_footer_wraps_instead_of_breaking_its_name(live_server, page, path):
    """The tagline squeezed "© Vestnik" into a column of two lines."""
    page.set_viewport_size({"width": 375, "height": 800})
    page.goto(live_server.url + path)

    name = page.locator("footer span", has_text="© Vestnik")
    line = name.evaluate("span => parseFloat(getComputedStyle(span).lineHeight)")
    assert name.bounding_box()["height"] < 1.5 * line  # one line
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
