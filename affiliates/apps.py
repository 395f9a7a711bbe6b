from django.apps import AppConfig


class AffiliatesConfig(AppConfig):
    name = "affiliates"

    def ready(self) -> None:
        from affiliates import selectors
        from network import actors

        actors.register_provider(actors.AFFILIATE, selectors.affiliate_actors)
        actors.register_network_ids_provider(actors.AFFILIATE, selectors.affiliate_network_ids)
        actors.register_principal_user_lookup(actors.AFFILIATE, selectors.affiliate_principal_user)
