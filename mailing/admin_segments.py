"""Tags, custom fields and segments in the admin (issue 12): the client form's tags
and attributes, the client fields' and segments' forms, and the segment's live
count (a small owner-checked JSON view the editor fetches, so no page waits for a
count)."""

import django_filters
from django import forms
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import JsonResponse
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.formats import number_format
from django.utils.functional import cached_property
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from django.views import View
from wagtail.admin.filters import WagtailFilterSet
from wagtail.admin.ui.tables import Column
from wagtail.admin.widgets import Button, ListingButton

from . import audiences, list_exports
from .admin_audiences import export_buttons, may_export_members, members_download
from .admin_views import OwnedEditView, OwnedIndexView, RoleGatedMixin
from .client_attributes import clean_attributes, clean_tags
from .forms import ClientForm, OwnedModelForm
from .models import Client, ClientField, Segment
from .permissions import policy_for
from .segment_conditions import (
    choice_of,
    condition_choices,
    describe_rules,
    rule_from_choice,
)
from .segments import clean_rules, has_tag, segment_filter

BLANK_ROWS = 3
MAX_ROWS = 30


# --- Client tags and attributes --------------------------------------------------


class TagsField(forms.CharField):
    def prepare_value(self, value):
        return ", ".join(value) if isinstance(value, list) else value

    def clean(self, value):
        return clean_tags(super().clean(value))


class AttributesWidget(forms.Widget):
    """One input per declared field of the owner, named `<name>__<key>`."""

    template_name = "mailing/widgets/client_attributes.html"
    fields: list[ClientField] = []

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        value = value if isinstance(value, dict) else {}
        context["widget"]["fields"] = [
            {
                "key": field.key,
                "label": field.label,
                "kind": field.kind,
                "value": _as_input(value.get(field.key)),
            }
            for field in self.fields
        ]
        return context

    def value_from_datadict(self, data, files, name):
        return {
            field.key: data.get(f"{name}__{field.key}", "") for field in self.fields
        }


def _as_input(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


class AttributesField(forms.Field):
    widget = AttributesWidget

    def __init__(self, *args, owner_id=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.owner_id = owner_id

    def clean(self, value):
        fields = {field.key: field.kind for field in self.widget.fields}
        return clean_attributes(self.owner_id, value or {}, fields)


class ClientAttributesMixin(forms.Form):
    """The client form's tags (comma-separated) and one input per declared field."""

    tags = TagsField(
        label=_("Tags"),
        required=False,
        help_text=_("Separated by commas, e.g. vip, moscow."),
    )
    attributes = AttributesField(label=_("Attributes"), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["attributes"]
        field.owner_id = self.instance.owner_id
        field.widget = AttributesWidget()
        field.widget.fields = list(
            ClientField.objects.filter(owner_id=self.instance.owner_id)
        )


class ClientAttributesForm(ClientAttributesMixin, ClientForm):
    pass


def tags_column() -> Column:
    return Column("tags", label=_("Tags"), accessor=lambda c: ", ".join(c.tags))


class TagFilter(WagtailFilterSet):
    """On the clients listing: clients with this tag (the GIN index answers)."""

    tag = django_filters.CharFilter(label=capfirst(_("tag")), method="by_tag")

    def by_tag(self, queryset, name, value):
        try:
            tags = clean_tags([value])
        except ValidationError:
            return queryset.none()
        return queryset.filter(has_tag(tags[0])) if tags else queryset


# --- Client fields ---------------------------------------------------------------


class ClientFieldForm(OwnedModelForm):
    class Meta:
        model = ClientField
        fields = ["label", "key", "kind"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            # Stored values, segments and merge tags rely on the key and the type.
            for name in ("key", "kind"):
                self.fields[name].disabled = True
                self.fields[name].help_text = _("Fixed once the field exists.")

    def clean_key(self):
        key = self.cleaned_data["key"]
        taken = ClientField.objects.filter(owner=self.owner, key=key).exclude(
            pk=self.instance.pk
        )
        if taken.exists():
            raise forms.ValidationError(_("You already have a field with this key."))
        return key


# --- Segments --------------------------------------------------------------------


class RulesWidget(forms.Widget):
    """Rows of (condition, value): the saved rules and a few blank rows."""

    template_name = "mailing/widgets/segment_rules.html"
    choices: list = []

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        rows = [_row(rule) for rule in value] if isinstance(value, list) else []
        rows += [{"condition": "", "value": ""}] * BLANK_ROWS
        context["widget"].update(rows=rows[:MAX_ROWS], choices=self.choices)
        return context

    def value_from_datadict(self, data, files, name):
        return rules_from_rows(data, name)


def _row(rule) -> dict:
    if "condition" in rule:  # a row sent back with an error
        return rule
    condition, value = choice_of(rule)
    return {"condition": condition, "value": value}


def rules_from_rows(data, name: str = "rules") -> list[dict]:
    """The rules the editor's rows stand for; rows with no condition are skipped."""
    rules = []
    for n in range(MAX_ROWS):
        condition = data.get(f"{name}-{n}-condition", "")
        if condition:
            value = data.get(f"{name}-{n}-value", "")
            rules.append(rule_from_choice(condition, value))
    return rules


class RulesField(forms.Field):
    widget = RulesWidget

    def __init__(self, *args, owner_id=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.owner_id = owner_id

    def clean(self, value):
        return clean_rules(self.owner_id, value or [])


class SegmentForm(OwnedModelForm):
    class Media:
        js = ["js/segment_count.js"]

    rules = RulesField(
        label=_("Conditions"),
        required=False,
        help_text=_(
            "Dates as YYYY-MM-DD, periods in days. No condition: every client."
        ),
    )

    class Meta:
        model = Segment
        fields = ["name", "match", "rules"]
        widgets = {"match": forms.RadioSelect}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["rules"]
        field.owner_id = self.instance.owner_id
        field.widget = RulesWidget()
        field.widget.choices = condition_choices(self.instance.owner_id)
        field.widget.attrs["data-segment-count"] = _count_url()
        field.widget.attrs["data-segment"] = self.instance.pk or ""


def conditions_column() -> Column:
    return Column("rules", label=_("Conditions"), accessor=describe_rules)


def _count_url() -> str:
    return reverse("mailing_segment:count")


# --- The live count --------------------------------------------------------------


def may_count_segments(user) -> bool:
    return policy_for(Segment).user_has_permission(user, "view")


class SegmentCountView(RoleGatedMixin, View):
    """How many clients the editor's rules match now, and how many of them can
    receive mail. The rules are checked for the segment's owner (the one named by
    `segment` when the viewer may see it, else the viewer): another owner's list
    or field is "not found"."""

    allowed = staticmethod(may_count_segments)

    def get(self, request):
        owner_id = self._owner_id(request)
        match = request.GET.get("match", Segment.Match.ALL)
        try:
            rules = clean_rules(owner_id, rules_from_rows(request.GET))
        except ValidationError as error:
            return JsonResponse({"error": " ".join(error.messages)}, status=400)
        clients = Client.objects.filter(owner_id=owner_id).filter(
            segment_filter(owner_id, match, rules)
        )
        return JsonResponse(count_answer(clients))

    def _owner_id(self, request) -> int:
        pk = request.GET.get("segment", "")
        if pk.isdecimal():
            segment = Segment.objects.for_user(request.user).filter(pk=pk).first()
            if segment is not None:
                return segment.owner_id
        return request.user.pk


def count_answer(clients) -> dict:
    count = clients.count()
    reachable = audiences.deliverable(clients).count()
    text = ngettext(
        "Matches %(count)s client now, %(reachable)s can receive mail.",
        "Matches %(count)s clients now, %(reachable)s can receive mail.",
        count,
    ) % {
        "count": number_format(count, force_grouping=True),
        "reachable": number_format(reachable, force_grouping=True),
    }
    return {"count": count, "reachable": reachable, "text": text}


# --- The segment's members as CSV or XLSX ----------------------------------------


def segment_export_buttons(user, segment: Segment, button_class=ListingButton):
    url_name = "mailing_segment:export_members"
    return export_buttons(user, segment, url_name, button_class)


def export_segment(request, pk):
    """The clients the segment matches now, with their lists and suppression:
    the list export's writer over the segment's clients; the owner's only."""
    segment = get_object_or_404(Segment, pk=pk)
    if not may_export_members(request.user, segment):
        raise PermissionDenied
    rows = list_exports.segment_rows(segment)
    return members_download(request, f"segment-{segment.pk}-members", rows)


class SegmentIndexView(OwnedIndexView):
    def get_list_more_buttons(self, instance):
        return [
            *super().get_list_more_buttons(instance),
            *segment_export_buttons(self.request.user, instance),
        ]


class SegmentEditView(OwnedEditView):
    @cached_property
    def header_more_buttons(self):
        return [
            *super().header_more_buttons,
            *segment_export_buttons(self.request.user, self.object, Button),
        ]
