"""The benchmark's URLconf: the real one plus a bare 302 view under /t/ (same middleware bypass as /c/)."""

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import path

from network.urls import urlpatterns as network_urlpatterns


def bare_302(request: HttpRequest) -> HttpResponse:
    """The baseline: what any Django view costs to answer a redirect with a cookie."""
    response = HttpResponseRedirect("https://shop.example.com/?x=1")
    response.set_cookie("bench", "1", max_age=86400)
    return response


urlpatterns = [path("t/bench-302", bare_302), *network_urlpatterns]
