"""Demo site for `manage.py seed_demo`: home page content, a blog index, a few posts.

Images are drawn with Pillow, so seeding needs no network. Safe to re-run: every
object is looked up by its slug or title first.
"""

import io
from datetime import date, timedelta

from django.core.files.images import ImageFile
from PIL import Image as PILImage
from PIL import ImageDraw
from wagtail.images import get_image_model
from wagtail.models import Page
from wagtail.rich_text import RichText

from home.models import HomePage

from .models import BlogIndexPage, BlogPage

FEATURES = [
    ("Расписание", "Рассылка уходит в назначенное время: раз, ежедневно, еженедельно."),
    ("Отчёты", "Каждая попытка отправки видна: статус и ответ почтового сервера."),
    ("Отписка", "Получатель отписывается в одно нажатие, и письма к нему не уходят."),
]
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
    home = HomePage.objects.first()
    if home is None:  # the migration makes one; a deleted one comes back here
        home = Page.get_first_root_node().add_child(
            instance=HomePage(title="Vestnik", slug="home")
        )
    if not home.hero_title:
        home.title = "Vestnik"
        home.hero_title = "Рассылки клиентам по расписанию"
        home.hero_text = "Создайте список клиентов, напишите письмо и назначьте время."
        home.features = [("feature", {"title": t, "text": x}) for t, x in FEATURES]
        home.save_revision().publish()
    return home


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
        index.save_revision().publish()
    return index


def seed_posts(index: BlogIndexPage) -> int:
    created = 0
    for days_ago, (slug, title, tag, colour) in enumerate(POSTS):
        if BlogPage.objects.filter(slug=slug).exists():
            continue
        post = BlogPage(
            title=title,
            slug=slug,
            date=date.today() - timedelta(days=days_ago * 7),
            author="Егор Редактор",
            intro=f"{title}: коротко о главном.",
            main_image=demo_image(title, colour),
            body=[
                ("paragraph", RichText(f"<p>{title} в Vestnik — это просто.</p>")),
                ("quote", "Письмо вовремя — половина дела."),
                ("code", {"language": "bash", "code": "make run"}),
            ],
        )
        index.add_child(instance=post)
        post.tags.add(tag)
        post.save_revision().publish()
        created += 1
    return created


def seed(stdout) -> None:
    home = seed_home()
    index = seed_blog(home)
    created = seed_posts(index)
    stdout.write(f"Site: home page, blog index at {index.url}, {created} new posts.")
