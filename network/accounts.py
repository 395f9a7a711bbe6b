"""django-allauth adapter: where people land after logging in."""

from allauth.account.adapter import DefaultAccountAdapter
from django.http import HttpRequest


class AccountAdapter(DefaultAccountAdapter):
    """Send each user to the area of their first role."""

    def get_login_redirect_url(self, request: HttpRequest) -> str:
        return "/home/"
