"""Demo site for `manage.py seed_demo`: home page content, a blog index, a few posts,
in Russian and, as their translations, in English.

Images are drawn with Pillow, so seeding needs no network. Safe to re-run: every
object is looked up by its slug, title or translation first.
"""

import io
from datetime import date, timedelta

from django.core.files.images import ImageFile
from PIL import Image as PILImage
from PIL import ImageDraw
from wagtail.images import get_image_model
from wagtail.models import Locale, Page
from wagtail.rich_text import RichText

from accounts.demo import EDITOR_EMAIL
from accounts.models import User
from home.models import HomePage

from .models import BlogIndexPage, BlogPage

FEATURES = [
    ("Расписание", "Рассылка уходит в назначенное время: раз, ежедневно, еженедельно."),
    ("Отчёты", "Каждая попытка отправки видна: статус и ответ почтового сервера."),
    ("Отписка", "Получатель отписывается в одно нажатие, и письма к нему не уходят."),
]
FEATURES_EN = [
    ("Schedules", "A mailing goes out when you say: once, daily or weekly."),
    ("Reports", "Every delivery attempt is shown, with the mail server's reply."),
    ("Unsubscribe", "A recipient unsubscribes in one click and gets no more mail."),
]
HOME_EN = {
    "hero_title": "Scheduled mailings to your clients",
    "hero_text": "Make a list of clients, write a letter and pick a time.",
}
INDEX_EN = {"title": "Blog", "slug": "blog", "intro": "Vestnik news and tips."}
AUTHOR = {"ru": "Егор Редактор", "en": "Egor the Editor"}
# Each Russian post's English translation: slug, title, tag.
POSTS_EN = {
    "kak-zapustit-pervuyu-rassylku": (
        "how-to-start-your-first-mailing",
        "How to start your first mailing",
        "news",
    ),
    "raspisanie-i-periodichnost": (
        "schedules-and-frequency",
        "Schedules and frequency",
        "tips",
    ),
    "chto-vidno-v-otchetah": ("what-reports-show", "What reports show", "tips"),
    "otpiska-v-odno-nazhatie": (
        "one-click-unsubscribe",
        "One-click unsubscribe",
        "news",
    ),
}
POSTS = [
    (
        "kak-zapustit-pervuyu-rassylku",
        "Как запустить первую рассылку",
        "новости",
        (37, 99, 235),
    ),
    (
        "raspisanie-i-periodichnost",
        "Расписание и периодичность",
        "советы",
        (22, 163, 74),
    ),
    ("chto-vidno-v-otchetah", "Что видно в отчётах", "советы", (234, 88, 12)),
    ("otpiska-v-odno-nazhatie", "Отписка в одно нажатие", "новости", (147, 51, 234)),
]


def publish(page: Page) -> None:
    """Publish as the demo editor (accounts.demo seeds first): without a user Wagtail's
    page listing and aging report say "Last published by: None"."""
    editor = User.objects.filter(email=EDITOR_EMAIL).first()
    page.save_revision(user=editor).publish(user=editor)


def demo_image(title: str, colour: tuple[int, int, int]):
    Image = get_image_model()
    existing = Image.objects.filter(title=title).first()
    if existing:
        return existing
    picture = PILImage.new("RGB", (1600, 900), colour)
    draw = ImageDraw.Draw(picture)
    for step in range(0, 1600, 80):
        draw.line([(step, 0), (step + 400, 900)], fill=(255, 255, 255), width=6)
    buffer = io.BytesIO()
    picture.save(buffer, "JPEG", quality=85)
    image = Image(title=title)
    image.file = ImageFile(buffer, name=f"{title[:40]}.jpg")
    image.save()
    return image


def seed_home() -> HomePage:
    home = HomePage.objects.filter(locale=Locale.get_default()).first()
    if home is None:  # the migration makes one; a deleted one comes back here
        home = Page.get_first_root_node().add_child(
            instance=HomePage(title="Vestnik", slug="home")
        )
    if not home.hero_title:
        home.title = "Vestnik"
        home.hero_title = "Рассылки клиентам по расписанию"
        home.hero_text = "Создайте список клиентов, напишите письмо и назначьте время."
        home.features = [("feature", {"title": t, "text": x}) for t, x in FEATURES]
        publish(home)
    return home


def english() -> Locale:
    return Locale.objects.get_or_create(language_code="en")[0]


def translation_of(page: Page) -> Page:
    """The page's English translation, copied from it (a draft) if there is none."""
    found = page.get_translation_or_none(english())
    if found is None:
        found = page.copy_for_translation(english())
    return found.specific


def seed_home_en(home: HomePage) -> HomePage:
    home_en = translation_of(home)
    if not home_en.hero_title or not home_en.live:
        home_en.title = "Vestnik"
        home_en.hero_title = HOME_EN["hero_title"]
        home_en.hero_text = HOME_EN["hero_text"]
        home_en.features = [
            ("feature", {"title": t, "text": x}) for t, x in FEATURES_EN
        ]
        publish(home_en)
    return home_en


def seed_blog(home: HomePage) -> BlogIndexPage:
    index = BlogIndexPage.objects.child_of(home).first()
    if index is None:
        index = home.add_child(
            instance=BlogIndexPage(
                title="Блог",
                slug="blog",
                intro="Новости и советы Vestnik.",
                show_in_menus=True,
            )
        )
        publish(index)
    return index


def seed_blog_en(index: BlogIndexPage) -> BlogIndexPage:
    index_en = translation_of(index)
    if not index_en.live:
        for name, value in INDEX_EN.items():
            setattr(index_en, name, value)
        publish(index_en)
    return index_en


def post_body(title: str, quote: str, simple: str):
    return [
        ("paragraph", RichText(f"<p>{title} {simple}</p>")),
        ("quote", quote),
        ("code", {"language": "bash", "code": "make run"}),
    ]


def seed_posts(index: BlogIndexPage) -> int:
    created = 0
    for days_ago, (slug, title, tag, colour) in enumerate(POSTS):
        if BlogPage.objects.filter(slug=slug).exists():
            continue
        post = BlogPage(
            title=title,
            slug=slug,
            date=date.today() - timedelta(days=days_ago * 7),
            author=AUTHOR["ru"],
            intro=f"{title}: коротко о главном.",
            main_image=demo_image(title, colour),
            body=post_body(
                title, "Письмо вовремя — половина дела.", "в Vestnik — это просто."
            ),
        )
        index.add_child(instance=post)
        post.tags.add(tag)
        publish(post)
        created += 1
    return created


def seed_posts_en(index: BlogIndexPage, index_en: BlogIndexPage) -> int:
    """The English translation of each demo post that has none yet.

    Made, not copied: a copy carries the Russian slug, and renaming it would leave
    a redirect from an address that was never public.
    """
    translated = 0
    for post in BlogPage.objects.child_of(index).filter(slug__in=POSTS_EN):
        if post.has_translation(index_en.locale):
            continue
        slug, title, tag = POSTS_EN[post.slug]
        post_en = BlogPage(
            title=title,
            slug=slug,
            locale=index_en.locale,
            translation_key=post.translation_key,
            date=post.date,
            author=AUTHOR["en"],
            intro=f"{title}: the short version.",
            main_image=post.main_image,
            body=post_body(
                title, "A letter on time is half the job.", "with Vestnik is simple."
            ),
        )
        index_en.add_child(instance=post_en)
        post_en.tags.add(tag)
        publish(post_en)
        translated += 1
    return translated


def seed(stdout) -> None:
    home = seed_home()
    index = seed_blog(home)
    created = seed_posts(index)
    seed_home_en(home)
    index_en = seed_blog_en(index)
    translated = seed_posts_en(index, index_en)
    stdout.write(
        f"Site: home page, blog index at {index.url} and {index_en.url}, "
        f"{created} new posts, {translated} new translations."
    )
