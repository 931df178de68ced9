"""The OpenAPI document: /api/v1/ only (Wagtail's own APIs are not ours to
document), with the Bearer token described. Settings name the hook, so this
module (and the scheme it registers) is loaded before any endpoint is read."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension

PREFIX = "/api/v1/"


def only_api_v1(endpoints, **kwargs):
    """drf-spectacular's PREPROCESSING_HOOKS entry."""
    return [endpoint for endpoint in endpoints if endpoint[0].startswith(PREFIX)]


class BearerTokenScheme(OpenApiAuthenticationExtension):
    target_class = "mailing.api.tokens.BearerTokenAuthentication"
    name = "bearerToken"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "An API token made in the admin (Settings, API tokens).",
        }
