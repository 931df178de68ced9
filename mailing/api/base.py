"""What every API view shares: authentication, the policy, throttling, paging,
errors in the request's language and Idempotency-Key on POST."""

from django.utils import translation
from django_filters.rest_framework import DjangoFilterBackend
from rest_framework import authentication, viewsets
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.renderers import BrowsableAPIRenderer, JSONRenderer
from rest_framework.response import Response

from . import idempotency
from .errors import handle_exception
from .paging import KeysetPagination
from .parsers import TextJSONParser
from .permissions import ApiAccess, OwnerPolicy
from .throttling import TokenRateThrottle
from .tokens import BearerTokenAuthentication


class ApiViewSet(viewsets.GenericViewSet):
    authentication_classes = [
        BearerTokenAuthentication,
        # The browsable API in a signed-in browser; DRF enforces CSRF for it.
        authentication.SessionAuthentication,
    ]
    permission_classes = [ApiAccess, OwnerPolicy]
    throttle_classes = [TokenRateThrottle]
    renderer_classes = [JSONRenderer, BrowsableAPIRenderer]
    parser_classes = [TextJSONParser, FormParser, MultiPartParser]
    pagination_class = KeysetPagination
    filter_backends = [DjangoFilterBackend]
    # An id is ASCII digits: anything else is no route, so the API's 404. The
    # router's default took any word, which reached int() in the users' actions
    # (a 500) and gave a row a second address in another script's digits.
    lookup_value_regex = "[0-9]+"
    policy_model = None
    # An @action names the policy action it is (pause: "change"); else the method.
    policy_action = None
    idempotency_record = None

    def policy_object(self, obj):
        return obj

    def get_exception_handler(self):
        return handle_exception

    def dispatch(self, request, *args, **kwargs):
        # /api/ is outside i18n_patterns: the language comes from Accept-Language
        # (or the language cookie), never from a path prefix.
        translation.activate(translation.get_language_from_request(request))
        request.LANGUAGE_CODE = translation.get_language()
        return super().dispatch(request, *args, **kwargs)

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        key = request.headers.get(idempotency.HEADER)
        if request.method == "POST" and key:
            self.idempotency_record = idempotency.claim(request.user, key, request)

    def handle_exception(self, exc):
        if isinstance(exc, idempotency.Replay):
            record = exc.record
            return Response(
                record.body,
                status=record.status,
                headers={"Idempotent-Replayed": "true"},
            )
        try:
            return super().handle_exception(exc)
        except Exception:
            # A server error: the key is free again for the client's retry.
            if self.idempotency_record is not None:
                self.idempotency_record.delete()
                self.idempotency_record = None
            raise

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        if self.idempotency_record is not None:
            idempotency.settle(self.idempotency_record, response)
            self.idempotency_record = None
        return response
