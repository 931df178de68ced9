"""Lists, subscriptions and a mailing's audience (issue 12); the recipients move in
0020_audiences_data, the old per-mailing checkboxes go in 0017."""

import django.core.validators
import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("mailing", "0018_api_attempt_keyset"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="mailing",
            name="all_clients",
            field=models.BooleanField(
                default=False,
                help_text="Send to every client of yours, whatever their lists.",
                verbose_name="all my clients",
            ),
        ),
        migrations.CreateModel(
            name="MailingList",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True,
                        primary_key=True,
                        serialize=False,
                        verbose_name="ID",
                    ),
                ),
                (
                    "name",
                    models.CharField(
                        max_length=255,
                        validators=[
                            django.core.validators.RegexValidator(
                                "[\\r\\n]",
                                inverse_match=True,
                                message="Line breaks are not allowed here.",
                            )
                        ],
                        verbose_name="name",
                    ),
                ),
                (
                    "description",
                    models.TextField(blank=True, verbose_name="description"),
                ),
                (
                    "created_at",
                    models.DateTimeField(auto_now_add=True, verbose_name="created at"),
                ),
                (
                    "owner",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="mailing_lists",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="owner",
                    ),
                ),
            ],
            options={
                "verbose_name": "list",
                "verbose_name_plural": "lists",
                "ordering": ["name"],
            },
        ),
        migrations.AddField(
            model_name="mailing",
            name="lists",
            field=models.ManyToManyField(
                blank=True,
                related_name="mailings",
                to="mailing.mailinglist",
                verbose_name="lists",
            ),
        ),
        migrations.CreateModel(
            name="Subscription",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True,
                        primary_key=True,
                        serialize=False,
                        verbose_name="ID",
                    ),
                ),
                (
                    "status",
                    models.CharField(
                        choices=[
                            ("subscribed", "Subscribed"),
                            ("unconfirmed", "Unconfirmed"),
                            ("unsubscribed", "Unsubscribed"),
                        ],
                        default="subscribed",
                        max_length=16,
                        verbose_name="status",
                    ),
                ),
                (
                    "changed_at",
                    models.DateTimeField(
                        default=django.utils.timezone.now, verbose_name="changed at"
                    ),
                ),
                (
                    "client",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="subscriptions",
                        to="mailing.client",
                        verbose_name="client",
                    ),
                ),
                (
                    "mailing_list",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="subscriptions",
                        to="mailing.mailinglist",
                        verbose_name="list",
                    ),
                ),
            ],
            options={
                "verbose_name": "subscription",
                "verbose_name_plural": "subscriptions",
            },
        ),
        migrations.AddIndex(
            model_name="mailinglist",
            index=models.Index(
                fields=["owner", "name"], name="mailing_mai_owner_i_f5faa1_idx"
            ),
        ),
        migrations.AddIndex(
            model_name="subscription",
            index=models.Index(
                fields=["mailing_list", "status", "client"],
                name="mailing_subscription_members",
            ),
        ),
        migrations.AddConstraint(
            model_name="subscription",
            constraint=models.UniqueConstraint(
                fields=("client", "mailing_list"), name="mailing_subscription_once"
            ),
        ),
    ]
