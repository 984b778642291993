"""Create an OAuth client (or rotate a client's secret) from the command line."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from partners.errors import ScopeNotAllowed
from partners.models import SCOPES_BY_KIND, ApiClient, CallerKind, Partner
from partners.services import api_client_create, api_client_rotate_secret


class Command(BaseCommand):
    help = (
        "Create an API client and print its id and secret (shown once), or --rotate an existing one's secret. "
        "Bind store and device clients to their store with bind_client_store."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--name")
        parser.add_argument("--kind", choices=[k.value for k in CallerKind])
        parser.add_argument("--partner", help="Partner slug (required for partner clients).")
        parser.add_argument("--scopes", default="", help="Space-separated; default: all the kind may have.")
        parser.add_argument("--redirect-uri", default="", help="For shopper apps (authorization code + PKCE).")
        parser.add_argument("--rotate", metavar="CLIENT_ID", help="Issue a new secret for this client instead.")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["rotate"]:
            client = ApiClient.objects.filter(client_id=options["rotate"]).first()
            if client is None:
                raise CommandError("No such client.")
            self.stdout.write(f"client_id={client.client_id}\nclient_secret={api_client_rotate_secret(client=client)}")
            return
        if not options["name"] or not options["kind"]:
            raise CommandError("--name and --kind are required.")
        kind = options["kind"]
        partner = None
        if options["partner"]:
            partner = Partner.objects.filter(slug=options["partner"]).first()
            if partner is None:
                raise CommandError(f"No partner with slug {options['partner']!r}.")
        scopes = options["scopes"].split() or sorted(SCOPES_BY_KIND[kind])
        try:
            client, secret = api_client_create(
                name=options["name"], kind=kind, partner=partner, scopes=scopes, redirect_uris=options["redirect_uri"]
            )
        except ScopeNotAllowed as exc:
            raise CommandError(str(exc.detail)) from exc
        self.stdout.write(f"client_id={client.client_id}\nclient_secret={secret or '(public client)'}")
