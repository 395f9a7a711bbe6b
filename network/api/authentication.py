"""`Authorization: Bearer <api key>` authentication."""

from django.utils import timezone
from rest_framework import authentication, exceptions
from rest_framework.request import Request

from network import services
from network.models import ApiKey

# last_used_at is refreshed at most this often, so a busy key does not write on every request.
LAST_USED_RESOLUTION_SECONDS = 60


class ApiKeyAuthentication(authentication.BaseAuthentication):
    """Look up the key by its public prefix and compare the secret's hash in constant time."""

    keyword = "Bearer"

    def authenticate(self, request: Request) -> tuple[object, ApiKey] | None:
        header = authentication.get_authorization_header(request).decode("latin-1")
        if not header:
            return None
        keyword, _, token = header.partition(" ")
        if keyword != self.keyword:
            return None
        api_key = services.check_api_key(token=token.strip())
        if api_key is None:
            raise exceptions.AuthenticationFailed("The API key is unknown or revoked.")
        now = timezone.now()
        if api_key.last_used_at is None or (now - api_key.last_used_at).total_seconds() > LAST_USED_RESOLUTION_SECONDS:
            ApiKey.objects.filter(pk=api_key.pk).update(last_used_at=now)
        return api_key.user, api_key

    def authenticate_header(self, request: Request) -> str:
        return self.keyword
