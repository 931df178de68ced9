"""A sample letter in each language: the layout preview shows it, and the spam
benchmark and browser tests send it."""

SAMPLE_LETTERS = {
    "ru": (
        "Новости недели для {{ full_name }}",
        "<h2>Что нового на этой неделе</h2>"
        "<p>Здравствуйте, {{ full_name }}! Мы собрали главное за неделю: новые "
        "материалы в блоге, ответы на частые вопросы и планы на следующий месяц.</p>"
        "<ul><li>Как настроить рассылку за десять минут</li>"
        "<li>Что изменилось в отчётах</li></ul>"
        "<p>Спасибо, что читаете нас. Ответьте на это письмо, если хотите что-то "
        "спросить: мы читаем каждое.</p>",
    ),
    "en": (
        "This week's news for {{ full_name }}",
        "<h2>What is new this week</h2>"
        "<p>Hello {{ full_name }}! Here is the week in short: new posts on the "
        "blog, answers to common questions and our plans for next month.</p>"
        "<ul><li>Setting up a mailing in ten minutes</li>"
        "<li>What changed in the reports</li></ul>"
        "<p>Thank you for reading. Reply to this email if you want to ask "
        "anything: we read every reply.</p>",
    ),
}


def sample_letter(language: str) -> tuple[str, str]:
    """(subject, stored rich text) of the sample letter in `language`."""
    return SAMPLE_LETTERS.get(language, SAMPLE_LETTERS["en"])
