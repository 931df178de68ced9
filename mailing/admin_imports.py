"""Clients import (CSV or XLSX): upload, preview, confirm, then a page that follows
the background import with a progress bar and offers the rejected rows.

The upload is stashed in a private temp folder under a random id; the session keeps
only that id (bound to the user), never the file. Once confirmed the file belongs
to the import job, which deletes it when done.
"""

from pathlib import Path

from django.contrib import messages
from django.http import JsonResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils.functional import cached_property
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.generic import FormView, TemplateView
from wagtail.admin.widgets import HeaderButton

from .admin_pages import AdminPageMixin, listing_crumb
from .admin_views import OwnedIndexView, RoleGatedMixin
from .forms import ClientImportForm, ImportConfirmForm
from .import_jobs import (
    header_only_reason,
    progress,
    rejected_rows_csv,
    start_import,
)
from .import_mapping import owner_fields, sample_of
from .imports import (
    ImportFileError,
    is_xlsx,
    read_sample,
    stash_path,
    stash_upload,
    text_named_as_workbook,
)
from .models import Client, ImportJob
from .permissions import policy_for

SESSION_KEY = "mailing_client_import"
NAME_KEY = "mailing_client_import_name"


def stashed_path(request) -> Path | None:
    token = request.session.get(SESSION_KEY)
    if not token or not token.isalnum():
        return None
    path = stash_path(token)
    return path if path.exists() else None


def drop_stash(request) -> None:
    if path := stashed_path(request):
        path.unlink(missing_ok=True)
    request.session.pop(SESSION_KEY, None)


def may_import_clients(user) -> bool:
    """Importing is adding clients: the page and its button share this one gate."""
    return policy_for(Client).user_has_permission(user, "add")


class ClientIndexView(OwnedIndexView):
    """The clients listing, with an Import button after Add for those who may add."""

    def get_list_more_buttons(self, instance):
        from .admin_suppression import client_data_buttons

        return [
            *super().get_list_more_buttons(instance),
            *client_data_buttons(self.request.user, instance),
        ]

    def get_base_queryset(self):
        # The lists column: each page's subscriptions in one more query.
        return (
            super().get_base_queryset().prefetch_related("subscriptions__mailing_list")
        )

    @cached_property
    def header_buttons(self):
        buttons = super().header_buttons
        if may_import_clients(self.request.user):
            import_button = HeaderButton(
                _("Import"),
                url=reverse("mailing_client:import"),
                icon_name="upload",
                priority=1010,  # Add is 1000
            )
            buttons.append(import_button)
        return buttons


# Each column is a choice on the mapping page: 20,000 made an 18 MB page and a
# form past DATA_UPLOAD_MAX_NUMBER_FIELDS, refused whole when sent.
MAX_COLUMNS = 500


def preview(sample, confirm_form) -> dict:
    """The mapping step: one row per column of the file (its name, a few of its
    values, where it goes), so twenty columns read down the page, not across."""
    columns = zip(confirm_form.column_fields(), sample.column_values(), strict=True)
    return {"sample": sample, "confirm_form": confirm_form, "columns": list(columns)}


class ClientImportView(RoleGatedMixin, AdminPageMixin, FormView):
    allowed = staticmethod(may_import_clients)
    page_title = gettext_lazy("Import clients")
    header_icon = "upload"
    template_name = "mailing/admin/client_import.html"
    form_class = ClientImportForm
    file_notice = None

    def get_parent_breadcrumbs(self):
        return [listing_crumb(Client)]

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        if self.request.method == "GET" and self.request.GET.get("preview"):
            sample, error = self.sample(stashed_path(self.request))
            context["file_error"] = error
            context["file_notice"] = self.file_notice
            if sample is not None:
                context.update(preview(sample, self.confirm_form(sample)))
        return context

    def sample(self, path):
        """The first rows of the file (never all of it) and the guessed mapping."""
        if path is None:
            return None, _("The uploaded file has expired: upload it again.")
        try:
            fields = owner_fields(self.request.user.pk)
            rows = read_sample(path)
            name = self.request.session.get(NAME_KEY, "")
            self.file_notice = text_named_as_workbook(path, name, rows)
            sample = sample_of(rows, fields, is_xlsx(path))
        except ImportFileError as error:
            return None, str(error)
        if not sample.width:
            return None, _("The file is empty.")
        if sample.header is not None and not sample.rows:
            return None, header_only_reason()
        if sample.width > MAX_COLUMNS:
            return None, _(
                "The file has %(count)s columns; at most %(max)s can be imported. "
                "Delete the columns you do not need and upload it again."
            ) % {"count": sample.width, "max": MAX_COLUMNS}
        return sample, None

    def confirm_form(self, sample, data=None):
        return ImportConfirmForm(
            data,
            owner=self.request.user,
            columns=sample.column_names,
            guess=sample.mapping,
        )

    def get(self, request, *args, **kwargs):
        if not request.GET.get("preview"):
            drop_stash(request)
        return super().get(request, *args, **kwargs)

    def post(self, request, *args, **kwargs):
        if request.POST.get("confirm"):
            return self.confirm()
        return super().post(request, *args, **kwargs)

    def form_valid(self, form):
        drop_stash(self.request)
        upload = form.cleaned_data["file"]
        self.request.session[SESSION_KEY] = stash_upload(upload)
        self.request.session[NAME_KEY] = upload.name
        return redirect(f"{self.request.path}?preview=1")

    def confirm(self):
        path = stashed_path(self.request)
        if path is None:
            messages.error(
                self.request, _("The uploaded file has expired: upload it again.")
            )
            return redirect(self.request.path)
        sample, error = self.sample(path)
        if sample is None:
            messages.error(self.request, error)
            return redirect(self.request.path)
        form = self.confirm_form(sample, self.request.POST)
        if not form.is_valid():
            # The preview again, with the person's choices and what is wrong.
            context = self.get_context_data(form=self.get_form_class()())
            context.update(preview(sample, form))
            return self.render_to_response(context)
        job = start_import(
            self.request.user,
            path.stem,
            file_name=self.request.session.get(NAME_KEY, ""),
            mailing_list=form.cleaned_data["mailing_list"],
            existing=form.cleaned_data["existing"],
            mapping=form.cleaned_data["mapping"],
        )
        # The file is the job's now: only the session forgets it.
        self.request.session.pop(SESSION_KEY, None)
        return redirect("mailing_client:import_job", job_id=job.pk)


def own_job(request, job_id) -> ImportJob:
    """Only its uploader sees an import (it lists their file's rows): 404 to others."""
    return get_object_or_404(ImportJob, pk=job_id, owner=request.user)


class ImportJobView(AdminPageMixin, TemplateView):
    page_title = gettext_lazy("Client import")
    header_icon = "upload"
    template_name = "mailing/admin/import_job.html"

    def get_parent_breadcrumbs(self):
        return [listing_crumb(Client)]

    def get_context_data(self, **kwargs):
        job = own_job(self.request, kwargs["job_id"])
        return super().get_context_data(job=job, progress=progress(job), **kwargs)


def import_status(request, job_id):
    """The progress bar's poll: the job's counters as JSON."""
    return JsonResponse(progress(own_job(request, job_id)))


def import_rejected_rows(request, job_id):
    job = own_job(request, job_id)
    response = StreamingHttpResponse(
        rejected_rows_csv(job), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = (
        f'attachment; filename="import-{job.pk}-rejected.csv"'
    )
    return response
