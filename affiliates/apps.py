from django.apps import AppConfig


class AffiliatesConfig(AppConfig):
    name = "affiliates"

    def ready(self) -> None:
        from affiliates import selectors, services
        from network import actors, invitations

        actors.register_provider(actors.AFFILIATE, selectors.affiliate_actors)
        actors.register_network_ids_provider(actors.AFFILIATE, selectors.affiliate_network_ids)
        actors.register_principal_user_lookup(actors.AFFILIATE, selectors.affiliate_principal_user)
        invitations.register_acceptor(actors.AFFILIATE, services.accept_affiliate_invitation)
