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


def model_choice_enum_names() -> dict[str, list[tuple[str, str]]]:
    """One OpenAPI enum name per distinct model choice set, e.g. "AffiliateKindEnum" and "CreativeKindEnum".

    drf-spectacular names an enum after its field, so two `kind` fields with different choices
    collide ("Kind2e2Enum") and one choice set under two field names gets two names. Naming every
    model's choice set after its model and field keeps the schema stable as apps add endpoints.
    """
    from django.apps import apps

    names: dict[str, list[tuple[str, str]]] = {}
    seen: set[tuple[tuple[str, str], ...]] = set()
    for model in sorted(apps.get_models(), key=lambda m: (m._meta.app_label, m.__name__)):
        for field in model._meta.get_fields():
            choices = getattr(field, "choices", None)
            if not choices or getattr(field, "auto_created", False):
                continue
            normalized = tuple((str(value), str(label)) for value, label in choices if value not in ("", None))
            if not normalized or normalized in seen:
                continue
            seen.add(normalized)
            camel = "".join(part.title() for part in field.name.split("_"))
            names[f"{model.__name__}{camel}Enum"] = list(choices)
    return names


def register_enum_names(spectacular_settings: dict) -> None:
    """Add the model enum names to SPECTACULAR_SETTINGS (names set there explicitly win)."""
    overrides = spectacular_settings.setdefault("ENUM_NAME_OVERRIDES", {})
    for name, choices in model_choice_enum_names().items():
        overrides.setdefault(name, choices)


ERROR_COMPONENT = {
    "type": "object",
    "required": ["error"],
    "properties": {"error": {
        "type": "object",
        "required": ["code", "message", "fields"],
        "properties": {
            "code": {"type": "string", "example": "invalid"},
            "message": {"type": "string"},
            "fields": {"type": "object", "additionalProperties": {"type": "array", "items": {"type": "string"}}},
        },
    }},
}
ERROR_RESPONSES = {
    "400": "Invalid input; `fields` names each bad field.",
    "401": "No or an unknown API key.",
    "403": "The key's role or scopes do not allow this.",
    "404": "Not found, or not yours (the two are not told apart).",
    "429": "Rate limited; see the `Retry-After` header.",
}


def add_error_responses(result: dict, generator: object, request: object, public: bool) -> dict:
    """drf-spectacular postprocessing hook: document the one error body on every operation."""
    result.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR_COMPONENT
    reference = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    for path_item in result.get("paths", {}).values():
        for method, operation in path_item.items():
            if method not in ("get", "post", "put", "patch", "delete"):
                continue
            responses = operation.setdefault("responses", {})
            for code, description in ERROR_RESPONSES.items():
                responses.setdefault(code, {"description": description, "content": reference})
    return result


def register_error_responses(spectacular_settings: dict) -> None:
    """Append the error-response hook after drf-spectacular's default hooks."""
    from drf_spectacular.settings import SPECTACULAR_DEFAULTS

    hooks = spectacular_settings.setdefault("POSTPROCESSING_HOOKS", list(SPECTACULAR_DEFAULTS["POSTPROCESSING_HOOKS"]))
    if "network.api.schema.add_error_responses" not in hooks:
        hooks.append("network.api.schema.add_error_responses")
