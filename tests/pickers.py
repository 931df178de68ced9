"""Closing Wagtail's date and time pickers in a browser test, as a person does:
by clicking elsewhere."""

PICKER_SHOWS = (
    "[...document.querySelectorAll('.xdsoft_datetimepicker')]"
    ".some(picker => picker.offsetParent !== null)"
)


def close_date_pickers(page, elsewhere: str = "input[name=name]", tries: int = 10):
    """Click `elsewhere` until no picker shows a moment later.

    A picker opens on a timer after its field gets focus, so on a busy machine it
    can open after the click meant to close it, and then it covers the Save button:
    one click and one check were not enough (CI failed on it twice).
    """
    for _ in range(tries):
        page.click(elsewhere)
        page.wait_for_timeout(400)
        if not page.evaluate(PICKER_SHOWS):
            return
    raise AssertionError(f"a date picker stayed open after {tries} clicks elsewhere")
