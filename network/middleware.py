"""Middleware that steps aside on the tracking paths, which must stay as cheap as possible.

The click redirect (/c/…) and the conversion doors under /t/ never use a session, a user, CSRF or
messages; running that middleware there would cost a session lookup per click for nothing.
"""

from collections.abc import Callable
from typing import Any

from django.contrib.auth.middleware import AuthenticationMiddleware
from django.contrib.messages.middleware import MessageMiddleware
from django.contrib.sessions.middleware import SessionMiddleware
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import CsrfViewMiddleware
from django.middleware.locale import LocaleMiddleware

TRACKING_PREFIXES = ("/c/", "/t/", "/integrations/")


def is_tracking_path(request: HttpRequest) -> bool:
    """True for the hot tracking paths that skip session, auth, CSRF and messages."""
    return request.path_info.startswith(TRACKING_PREFIXES)


def _tracking_exempt(middleware_class: type) -> type:
    class TrackingExempt(middleware_class):  # type: ignore[misc, valid-type]
        def __call__(self, request: HttpRequest) -> HttpResponse:
            if is_tracking_path(request):
                return self.get_response(request)
            return super().__call__(request)

        def process_view(self, request: HttpRequest, view: Callable[..., Any], args: Any, kwargs: Any) -> Any:
            if is_tracking_path(request) or not hasattr(super(), "process_view"):
                return None
            return super().process_view(request, view, args, kwargs)

    TrackingExempt.__name__ = f"TrackingExempt{middleware_class.__name__}"
    TrackingExempt.__qualname__ = TrackingExempt.__name__
    return TrackingExempt


TrackingExemptSessionMiddleware = _tracking_exempt(SessionMiddleware)
TrackingExemptLocaleMiddleware = _tracking_exempt(LocaleMiddleware)
TrackingExemptCsrfViewMiddleware = _tracking_exempt(CsrfViewMiddleware)
TrackingExemptAuthenticationMiddleware = _tracking_exempt(AuthenticationMiddleware)
TrackingExemptMessageMiddleware = _tracking_exempt(MessageMiddleware)
