from django.apps import AppConfig


class MerchantsConfig(AppConfig):
    name = "merchants"

    def ready(self) -> None:
        from merchants import selectors
        from network import actors

        actors.register_provider(actors.MERCHANT, selectors.merchant_actors)
        actors.register_network_ids_provider(actors.MERCHANT, selectors.merchant_network_ids)
        actors.register_principal_user_lookup(actors.MERCHANT, selectors.merchant_principal_user)
