from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    name = "webhooks"
    verbose_name = "Outbound webhooks"

    def ready(self) -> None:
        from django.conf import settings

        # The OpenAPI extension documenting Bearer API keys (drf-spectacular finds extensions on import).
        from network.api import schema
        from webhooks.api.serializers import POSTBACK_EVENT_CHOICES

        schema.register_enum_names(settings.SPECTACULAR_SETTINGS)
        settings.SPECTACULAR_SETTINGS["ENUM_NAME_OVERRIDES"].setdefault("PostbackEventTypeEnum",
                                                                        POSTBACK_EVENT_CHOICES)

        # Retries are due-time rows, not long Celery ETAs: beat sends whatever is due, every minute.
        settings.CELERY_BEAT_SCHEDULE.setdefault("webhooks-dispatch-due-deliveries", {
            "task": "webhooks.tasks.dispatch_due_deliveries", "schedule": 60.0,
        })
