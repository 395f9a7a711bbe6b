from django.apps import AppConfig


class MerchantsConfig(AppConfig):
    name = "merchants"

    def ready(self) -> None:
        from merchants import selectors, services
        from network import actors, invitations

        actors.register_provider(actors.MERCHANT, selectors.merchant_actors)
        actors.register_network_ids_provider(actors.MERCHANT, selectors.merchant_network_ids)
        actors.register_principal_user_lookup(actors.MERCHANT, selectors.merchant_principal_user)
        invitations.register_acceptor(actors.MERCHANT, services.accept_merchant_invitation)
