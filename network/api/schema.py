"""OpenAPI extensions: document `Authorization: Bearer <api key>` for every authenticated endpoint."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.plumbing import build_bearer_security_scheme_object


class ApiKeyAuthenticationScheme(OpenApiAuthenticationExtension):
    """The API key scheme, named "ApiKey" in the schema's securitySchemes."""

    target_class = "network.api.authentication.ApiKeyAuthentication"
    name = "ApiKey"

    def get_security_definition(self, auto_schema: object) -> dict:
        definition = build_bearer_security_scheme_object(header_name="Authorization", token_prefix="Bearer")
        definition["description"] = "An API key from `POST /api/v1/api-keys/` or `manage.py bootstrap_network`."
        return definition
