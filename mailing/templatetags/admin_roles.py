"""Template side of the admin's role rules (mailing.models.ownership)."""

from django import template

from ..models import works_only_with_mailings

register = template.Library()

register.filter("works_only_with_mailings", works_only_with_mailings)
