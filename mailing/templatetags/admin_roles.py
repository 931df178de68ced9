"""Template side of the admin's role rules (the hooks in wagtail_hooks.py)."""

from django import template

from ..wagtail_hooks import works_only_with_mailings

register = template.Library()

register.filter("works_only_with_mailings", works_only_with_mailings)
