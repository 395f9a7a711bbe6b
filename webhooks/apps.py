from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    name = "webhooks"
    verbose_name = "Outbound webhooks"

    def ready(self) -> None:
        from django.conf import settings

        # Schema quality: the Bearer API-key scheme (an extension, found on import), stable enum names and
        # the error body on every operation. They live here because `network` is set up before the API apps.
        from network.api import schema
        from webhooks.api.serializers import POSTBACK_EVENT_CHOICES

        schema.register_enum_names(settings.SPECTACULAR_SETTINGS)
        schema.register_error_responses(settings.SPECTACULAR_SETTINGS)
        settings.SPECTACULAR_SETTINGS["ENUM_NAME_OVERRIDES"].setdefault("PostbackEventTypeEnum",
                                                                        POSTBACK_EVENT_CHOICES)
