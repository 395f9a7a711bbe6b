"""Pages of the webhooks app."""

urlpatterns: list = []
