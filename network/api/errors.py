"""One error format for the whole API: {"error": {"code", "message", "fields"}}."""

from typing import Any

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpRequest, JsonResponse
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler


def _flatten(detail: Any) -> list[str]:
    if isinstance(detail, dict):
        return [message for value in detail.values() for message in _flatten(value)]
    if isinstance(detail, list | tuple):
        return [message for value in detail for message in _flatten(value)]
    return [str(detail)]


def _fields(detail: Any) -> dict[str, list[str]]:
    if not isinstance(detail, dict):
        return {}
    fields: dict[str, list[str]] = {}
    for name, value in detail.items():
        if isinstance(value, dict):
            for inner, messages in _fields(value).items():
                fields[f"{name}.{inner}"] = messages
        else:
            fields[str(name)] = _flatten(value)
    return fields


def error_body(code: str, message: str, fields: dict[str, list[str]] | None = None) -> dict[str, Any]:
    """The error body every 4xx carries."""
    return {"error": {"code": code, "message": message, "fields": fields or {}}}


def django_validation_detail(error: DjangoValidationError) -> Any:
    """A Django ValidationError as DRF-style detail (a dict when it names fields)."""
    if hasattr(error, "error_dict"):
        return {"non_field_errors" if name == "__all__" else name: [str(m) for e in errors for m in e.messages]
                for name, errors in error.error_dict.items()}
    return {"non_field_errors": error.messages}


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """Translate every exception a view raises into the one error format."""
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(django_validation_detail(exc))
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    detail = response.data
    if isinstance(exc, exceptions.ValidationError):
        fields = _fields(detail) if isinstance(detail, dict) else {"non_field_errors": _flatten(detail)}
        named = [name for name in fields if name != "non_field_errors"]
        message = ("Invalid value for " + ", ".join(named) + ".") if named else " ".join(_flatten(detail))
        response.data = error_body("invalid", message, fields)
    else:
        code = getattr(exc, "default_code", "error")
        if isinstance(exc, exceptions.APIException) and isinstance(exc.detail, exceptions.ErrorDetail):
            code = exc.detail.code or code
        message = " ".join(_flatten(detail)) if detail else str(exc)
        response.data = error_body(str(code), message)
    return response


def json_not_found(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    """404 for API paths outside any view (unknown URL)."""
    return JsonResponse(error_body("not_found", "Not found."), status=status.HTTP_404_NOT_FOUND)
