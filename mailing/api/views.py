"""The API's resources: thin views over the policy and the mailing services."""

import django_filters
from django import forms
from django.db.models import ProtectedError
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, mixins, status
from rest_framework.decorators import action
from rest_framework.response import Response

from accounts.models import User

from .. import (
    audiences,
    control,
    moderation,
    senders,
    services,
    subscribe,
    suppression,
)
from ..client_upsert import MAX_ROWS, upsert_clients
from ..models import (
    Attempt,
    Client,
    ClientField,
    Consent,
    EmailLayout,
    Event,
    Mailing,
    MailingList,
    MailingRun,
    Message,
    Segment,
    SenderIdentity,
    Suppression,
)
from ..permissions import may_remove_suppression, policy_for
from ..rollups import mailing_figures
from ..segments import segment_clients
from . import serializers as s
from .base import ApiViewSet
from .permissions import ApiAccess, MayBlockUsers
from .subscribing import SubscriptionRequestSerializer, SubscriptionResultSerializer

SUBSCRIPTION_OUTCOMES = {
    "subscribed": gettext_lazy("The address is subscribed."),
    "unconfirmed": gettext_lazy(
        "A confirmation email is sent; the address is subscribed once confirmed."
    ),
    subscribe.SUPPRESSED: gettext_lazy(
        "The address is on your suppression list or unsubscribed: nothing is done."
    ),
}


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_code = "conflict"


class TooManyLinks(exceptions.APIException):
    """Confirmation links asked for past senders.CONFIRMATIONS' hourly limit."""

    status_code = status.HTTP_429_TOO_MANY_REQUESTS
    default_code = "throttled"


def done(message: str, code=status.HTTP_200_OK) -> Response:
    return Response({"detail": message}, status=code)


class PolicyRows:
    """The listing: the rows the policy lets the user see (one rule with the admin)."""

    def get_queryset(self):
        return policy_for(self.policy_model).instances_user_has_any_permission_for(
            self.request.user, ["view"]
        )


class CrudViewSet(
    PolicyRows,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    ApiViewSet,
):
    pass


class IdFilter(django_filters.NumberFilter):
    """A related row's id, matched as it is and never looked up: the
    ModelChoiceFilter that filterset_fields makes checks the id against every row
    of the table, so another owner's id passed (an empty page) and an id that
    exists nowhere was a 400, which told other owners' ids apart."""

    field_class = forms.IntegerField


class YesNoFilter(django_filters.TypedChoiceFilter):
    """true or false (1 or 0), anything else a 400 naming the parameter: the
    BooleanFilter that filterset_fields makes reads a word it does not know
    ("maybe", "yes") as no filter at all, so ?is_paused=yes listed every
    mailing, paused or not."""

    WORDS = {"true": True, "True": True, "1": True}
    WORDS |= {"false": False, "False": False, "0": False}

    def __init__(self, **kwargs):
        choices = [(word, word) for word in self.WORDS]
        super().__init__(choices=choices, coerce=self.WORDS.get, **kwargs)


# --- Clients ---------------------------------------------------------------------


class ClientFilter(django_filters.FilterSet):
    email = django_filters.CharFilter(lookup_expr="iexact")

    class Meta:
        model = Client
        fields = ["email"]


@extend_schema(tags=["clients"])
class ClientViewSet(CrudViewSet):
    policy_model = Client
    serializer_class = s.ClientSerializer
    filterset_class = ClientFilter

    @extend_schema(request=s.BulkClientsSerializer, responses=s.BulkReportSerializer)
    @action(detail=False, methods=["post"], policy_action="add")
    def bulk(self, request):
        """Create or update up to 10,000 clients by email; rows with errors are
        listed and not written, the others are. A known client takes the row's
        values for the fields the row has (an empty string empties one); a field
        left out of the row is never changed."""
        rows = request.data.get("clients") if isinstance(request.data, dict) else None
        if not isinstance(rows, list) or len(rows) > MAX_ROWS:
            raise exceptions.ValidationError(
                {"clients": [_("A list of at most 10,000 clients.")]}
            )
        target = self._target_list(request.data.get("list"))
        report = upsert_clients(request.user, rows, target and target.pk)
        return Response(s.BulkReportSerializer(report).data)

    def _target_list(self, value) -> MailingList | None:
        """The requester's own list named in a bulk request; a foreign or unknown
        id is refused before anything is written. The id is read as every other
        id field of the API reads it (DRF's IntegerField: 2 or "2"); the lookup
        took only a JSON number, so "2" was told "Not found: 2"."""
        if value is None:
            return None
        try:
            pk = s.BulkClientsSerializer().fields["list"].run_validation(value)
        except exceptions.ValidationError as error:
            raise exceptions.ValidationError({"list": error.detail}) from error
        found = MailingList.objects.filter(owner=self.request.user, pk=pk).first()
        if found is None:
            raise exceptions.ValidationError(
                {"list": [_("Not found: %(ids)s.") % {"ids": pk}]}
            )
        return found


# --- Client fields and segments -------------------------------------------------


@extend_schema(tags=["clients"])
class ClientFieldViewSet(CrudViewSet):
    """The custom attributes you declare for your clients."""

    policy_model = ClientField
    serializer_class = s.ClientFieldSerializer


@extend_schema(tags=["segments"])
class SegmentViewSet(CrudViewSet):
    policy_model = Segment
    serializer_class = s.SegmentSerializer

    @extend_schema(responses=s.SegmentCountSerializer)
    @action(detail=True, methods=["get"])
    def count(self, request, pk=None):
        """How many of your clients the segment matches now."""
        clients = segment_clients(self.get_object())
        return Response(
            {
                "count": clients.count(),
                "reachable": audiences.deliverable(clients).count(),
            }
        )

    def perform_destroy(self, instance):
        try:
            instance.delete()
        except ProtectedError as error:
            raise Conflict(_("A mailing uses this segment.")) from error


# --- Lists -----------------------------------------------------------------------


@extend_schema(tags=["lists"])
class MailingListViewSet(CrudViewSet):
    policy_model = MailingList
    serializer_class = s.MailingListSerializer

    @extend_schema(request=s.SubscribeSerializer, responses=s.ResultSerializer)
    @action(detail=True, methods=["post"], policy_action="change")
    def subscribe(self, request, pk=None):
        """Subscribe clients of yours to the list; one who opted out stays out."""
        mailing_list = self.get_object()
        form = s.SubscribeSerializer(data=request.data, context={"request": request})
        form.is_valid(raise_exception=True)
        added = audiences.subscribe(
            Client.objects.filter(pk__in=form.validated_data["clients"]), mailing_list
        )
        return done(_("Subscribed: %(count)d.") % {"count": added})

    @extend_schema(request=s.SubscribeSerializer, responses=s.ResultSerializer)
    @action(detail=True, methods=["post"], policy_action="change")
    def unsubscribe(self, request, pk=None):
        """Take clients of yours off this list (other lists keep them)."""
        mailing_list = self.get_object()
        form = s.SubscribeSerializer(data=request.data, context={"request": request})
        form.is_valid(raise_exception=True)
        changed = audiences.unsubscribe(
            Client.objects.filter(pk__in=form.validated_data["clients"]), mailing_list
        )
        return done(_("Unsubscribed: %(count)d.") % {"count": changed})

    @extend_schema(
        request=SubscriptionRequestSerializer, responses=SubscriptionResultSerializer
    )
    @action(detail=True, methods=["post"], policy_action="change")
    def subscriptions(self, request, pk=None):
        """Subscribe one address, with double opt-in (an email to confirm) or as
        confirmed with a note of the consent; a suppressed address stays out."""
        mailing_list = self.get_object()
        form = SubscriptionRequestSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        data = form.validated_data
        outcome = subscribe.join(
            subscribe.Request(
                mailing_list,
                data["email"],
                data["name"],
                data["double_opt_in"],
                data["consent_note"],
                subscribe.Visitor.of(request),
                subscribe.Origin(Consent.Source.API, f"user:{request.user.pk}"),
            )
        )
        return Response({"status": outcome, "detail": SUBSCRIPTION_OUTCOMES[outcome]})


# --- Suppression list --------------------------------------------------------------


class SuppressionFilter(django_filters.FilterSet):
    """Finds an entry by its address, hashed like the list."""

    email = django_filters.CharFilter(method="by_email")

    class Meta:
        model = Suppression
        fields = ["reason"]

    def by_email(self, queryset, name, value):
        return queryset.filter(address_hash=suppression.address_hash(value))


@extend_schema(tags=["suppression"])
class SuppressionViewSet(
    PolicyRows,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    ApiViewSet,
):
    """Addresses never to mail again: added by hand here, by unsubscribes, hard
    bounces and complaints; lifted only with a note, which is logged."""

    policy_model = Suppression
    serializer_class = s.SuppressionSerializer
    filterset_class = SuppressionFilter

    def perform_create(self, serializer):
        data = serializer.validated_data
        owner = self.request.user
        suppression.suppress_address(
            owner.pk, data["email"], Suppression.Reason.MANUAL, data.get("detail", "")
        )
        serializer.instance = Suppression.objects.get(
            owner=owner, address_hash=suppression.address_hash(data["email"])
        )

    @extend_schema(request=s.LiftSerializer, responses=s.ResultSerializer)
    @action(detail=True, methods=["post"], policy_action="view")
    def lift(self, request, pk=None):
        """Remove the entry: the address may be mailed again. Its owner only."""
        entry = self.get_object()
        if not may_remove_suppression(request.user, entry):
            raise exceptions.PermissionDenied
        form = s.LiftSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        suppression.lift(entry, request.user, form.validated_data["note"])
        return done(_("The address may be mailed again."))


# --- Messages --------------------------------------------------------------------


@extend_schema(tags=["messages"])
class MessageViewSet(CrudViewSet):
    policy_model = Message
    serializer_class = s.MessageSerializer

    def perform_destroy(self, instance):
        try:
            instance.delete()
        except ProtectedError as error:
            raise Conflict(
                _("Mailings use this message: delete them first.")
            ) from error

    @extend_schema(request=None, responses=s.ResultSerializer)
    @action(detail=True, methods=["post"], policy_action="change", url_path="test-send")
    def test_send(self, request, pk=None):
        """One email of the message to the requester's own address."""
        try:
            services.send_test_message(self.get_object(), request.user)
        except services.SendError as error:
            raise Conflict(str(error)) from error
        return done(
            _("A test email was sent to %(email)s.") % {"email": request.user.email}
        )


@extend_schema(tags=["messages"])
class LayoutViewSet(CrudViewSet):
    """The layouts a message may use: one's own and the shared ones (which only
    superusers change). Blocks are checked as the admin's block editor checks them."""

    policy_model = EmailLayout
    serializer_class = s.LayoutSerializer
    filterset_fields = ["language"]


@extend_schema(tags=["senders"])
class SenderIdentityViewSet(CrudViewSet):
    """Who your emails come from. A new or changed address is usable once you open
    the link mailed to it and confirm, signed in to the admin; until then a
    message may not name it."""

    policy_model = SenderIdentity
    serializer_class = s.SenderIdentitySerializer

    def perform_create(self, serializer):
        senders.ask_for_confirmation(serializer.save())

    def perform_update(self, serializer):
        senders.ask_for_confirmation(serializer.save())

    @extend_schema(request=None, responses=s.ResultSerializer)
    @action(detail=True, methods=["post"], policy_action="change")
    def resend(self, request, pk=None):
        """A new confirmation link to the identity's address."""
        identity = self.get_object()
        if identity.is_confirmed:
            raise Conflict(_("This identity is already confirmed."))
        if not senders.request_confirmation(identity):
            raise TooManyLinks(senders.too_many_links_message(identity))
        return done(
            _("A new confirmation link was sent to %(email)s.")
            % {"email": identity.from_email}
        )


# --- Mailings --------------------------------------------------------------------


class MailingFilter(django_filters.FilterSet):
    is_enabled = YesNoFilter()
    is_paused = YesNoFilter()

    class Meta:
        model = Mailing
        fields = ["status", "is_enabled", "is_paused"]


@extend_schema(tags=["mailings"])
class MailingViewSet(CrudViewSet):
    policy_model = Mailing
    serializer_class = s.MailingSerializer
    filterset_class = MailingFilter

    def get_queryset(self):
        return super().get_queryset().prefetch_related("lists")

    @extend_schema(responses=s.ReportSerializer)
    @action(detail=True, methods=["get"])
    def report(self, request, pk=None):
        """Sends, bounces, complaints, opens and clicks (by people and in all)."""
        return Response(s.ReportSerializer(mailing_figures(self.get_object())).data)

    @extend_schema(request=None, responses={201: s.RunSerializer})
    @action(detail=True, methods=["post"], policy_action="change", url_path="send-now")
    def send_now(self, request, pk=None):
        """A manual run to every recipient now; 409 while one is still open."""
        try:
            run = services.send_now(self.get_object(), request.user)
        except services.SendError as error:
            raise Conflict(str(error)) from error
        return Response(s.RunSerializer(run).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses=s.ResultSerializer)
    @action(detail=True, methods=["post"], policy_action="change", url_path="test-send")
    def test_send(self, request, pk=None):
        try:
            services.send_test(self.get_object(), request.user)
        except services.SendError as error:
            raise Conflict(str(error)) from error
        return done(
            _("A test email was sent to %(email)s.") % {"email": request.user.email}
        )

    @extend_schema(request=None, responses=s.ResultSerializer)
    @action(detail=True, methods=["post"], policy_action="change")
    def pause(self, request, pk=None):
        control.pause_mailing(self.get_object())
        return done(_("The mailing is paused."))

    @extend_schema(request=None, responses=s.ResultSerializer)
    @action(detail=True, methods=["post"], policy_action="change")
    def resume(self, request, pk=None):
        control.resume_mailing(self.get_object())
        return done(_("The mailing is resumed."))

    @extend_schema(request=None, responses=s.ResultSerializer)
    @action(detail=True, methods=["post"], policy_action="change")
    def cancel(self, request, pk=None):
        if not control.cancel_mailing(self.get_object()):
            raise Conflict(_("Nothing of this mailing is sending."))
        return done(_("Sending is cancelled."))

    @extend_schema(request=None, responses=s.ResultSerializer)
    @action(detail=True, methods=["post"], policy_action="disable")
    def disable(self, request, pk=None):
        """Managers: switch the mailing off; what of it is sending is cancelled."""
        moderation.set_mailing_enabled(self.get_object(), False, by=request.user)
        return done(_("The mailing is disabled."))

    @extend_schema(request=None, responses=s.ResultSerializer)
    @action(detail=True, methods=["post"], policy_action="disable")
    def enable(self, request, pk=None):
        moderation.set_mailing_enabled(self.get_object(), True, by=request.user)
        return done(_("The mailing is enabled."))


# --- Runs, attempts, events: read, filter, keyset pages ----------------------------


class RunFilter(django_filters.FilterSet):
    mailing = IdFilter()

    class Meta:
        model = MailingRun
        fields = ["mailing", "status", "kind"]


@extend_schema(tags=["runs"])
class RunViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ApiViewSet):
    """A run's progress: done (sent, failed, cancelled) of total, and percent."""

    policy_model = Mailing
    serializer_class = s.RunSerializer
    filterset_class = RunFilter

    def get_queryset(self):
        return MailingRun.objects.for_user(self.request.user)

    def policy_object(self, run):
        return run.mailing

    def _act(self, verb: str, message: str) -> Response:
        try:
            getattr(control, f"{verb}_run")(self.get_object())
        except control.ControlError as error:
            raise Conflict(str(error)) from error
        return done(message)

    @extend_schema(request=None, responses=s.ResultSerializer)
    @action(detail=True, methods=["post"], policy_action="change")
    def pause(self, request, pk=None):
        return self._act("pause", _("The run is paused."))

    @extend_schema(request=None, responses=s.ResultSerializer)
    @action(detail=True, methods=["post"], policy_action="change")
    def resume(self, request, pk=None):
        return self._act("resume", _("The run is resumed."))

    @extend_schema(request=None, responses=s.ResultSerializer)
    @action(detail=True, methods=["post"], policy_action="change")
    def cancel(self, request, pk=None):
        return self._act("cancel", _("The run is cancelled."))


class AttemptFilter(django_filters.FilterSet):
    mailing = IdFilter()
    run = IdFilter()
    client = IdFilter()

    class Meta:
        model = Attempt
        fields = ["mailing", "run", "client", "status"]


@extend_schema(tags=["attempts"])
class AttemptViewSet(
    PolicyRows, mixins.ListModelMixin, mixins.RetrieveModelMixin, ApiViewSet
):
    policy_model = Attempt
    serializer_class = s.AttemptSerializer
    filterset_class = AttemptFilter

    def get_queryset(self):
        return self.narrowed(super().get_queryset()).select_related("client")

    def narrowed(self, rows):
        """A listing of one visible run or mailing: its rows by their own column.
        The same rows; but the planner, given the join to the owner, expects few
        and sorts the whole run instead of walking the (run, id) index."""
        params = self.request.query_params
        for name, model in (("run", MailingRun), ("mailing", Mailing)):
            pk = params.get(name, "")
            if self.action == "list" and pk.isdecimal() and len(pk) < 19:
                if model.objects.for_user(self.request.user).filter(pk=pk).exists():
                    return Attempt.objects.filter(**{f"{name}_id": pk})
        return rows


class EventFilter(django_filters.FilterSet):
    attempt = IdFilter()
    mailing = IdFilter(field_name="attempt__mailing")

    class Meta:
        model = Event
        fields = ["kind", "attempt", "mailing", "verdict"]


@extend_schema(tags=["events"])
class EventViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ApiViewSet):
    policy_model = Attempt
    serializer_class = s.EventSerializer
    filterset_class = EventFilter

    def get_queryset(self):
        return Event.objects.for_user(self.request.user)

    def policy_object(self, event):
        return event.attempt


# --- Moderation ------------------------------------------------------------------


@extend_schema(tags=["moderation"])
class UserViewSet(mixins.ListModelMixin, ApiViewSet):
    """Managers: the users they may block, and blocking them (their sends stop)."""

    permission_classes = [ApiAccess, MayBlockUsers]
    serializer_class = s.UserSerializer
    queryset = User.objects.filter(is_superuser=False)

    def _target(self, pk) -> User:
        target = get_object_or_404(self.get_queryset(), pk=pk)
        if not moderation.may_block_user(self.request.user, target):
            raise exceptions.PermissionDenied()
        return target

    @extend_schema(request=None, responses=s.ResultSerializer)
    @action(detail=True, methods=["post"])
    def block(self, request, pk=None):
        target = self._target(pk)
        moderation.set_user_blocked(target, True, by=request.user)
        return done(_("%(email)s is blocked.") % {"email": target.email})

    @extend_schema(request=None, responses=s.ResultSerializer)
    @action(detail=True, methods=["post"])
    def unblock(self, request, pk=None):
        target = self._target(pk)
        moderation.set_user_blocked(target, False, by=request.user)
        return done(_("%(email)s is unblocked.") % {"email": target.email})
