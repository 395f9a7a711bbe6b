"""Pages of the reports app."""

urlpatterns: list = []
