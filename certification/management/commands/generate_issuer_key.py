from django.core.management.base import BaseCommand, CommandError

from certification import keys


class Command(BaseCommand):
    help = (
        "Create the Open Badges issuer's signing key at OPENBADGES_KEY_PATH. "
        "Refuses to replace an existing key unless --rotate or --force."
    )

    def add_arguments(self, parser) -> None:
        group = parser.add_mutually_exclusive_group()
        group.add_argument(
            "--rotate",
            action="store_true",
            help="Replace the key but keep publishing the old public key: "
            "credentials already issued still verify.",
        )
        group.add_argument(
            "--force",
            action="store_true",
            help="Replace the key and stop publishing the old one (a compromised key): "
            "credentials signed with it no longer verify.",
        )

        group.add_argument(
            "--withdraw",
            metavar="KID",
            help="Stop publishing a retired key (its id as in the JWKS): credentials "
            "signed with it no longer verify. The active key is not touched.",
        )

    def handle(
        self, *args, rotate: bool = False, force: bool = False, withdraw: str = "", **options
    ) -> None:
        if withdraw:
            # The thumbprint, or the JWKS's `kid` URL that ends with it.
            withdraw = withdraw.rstrip("/").rsplit("/", 1)[-1]
            if not keys.withdraw(withdraw):
                raise CommandError(f"No retired key {withdraw} in {keys.retired_keys_path()}.")
            self.stdout.write(
                self.style.WARNING(
                    f"Key {withdraw} withdrawn: credentials signed with it no longer verify."
                )
            )
            return
        try:
            key = keys.generate(rotate=rotate, force=force)
        except FileExistsError:
            raise CommandError(
                f"An issuer key already exists at {keys.key_path()}. "
                "Use --rotate to replace it while old credentials keep verifying, "
                "or --force to discard it."
            ) from None
        self.stdout.write(
            self.style.SUCCESS(f"Issuer key {keys.key_id(key)} written to {keys.key_path()}.")
        )
        if rotate:
            self.stdout.write(
                f"The previous public key stays published ({keys.retired_keys_path()})."
            )
        if force:
            self.stdout.write(
                self.style.WARNING(
                    "The previous key was discarded: its credentials no longer verify."
                )
            )
        self.stdout.write("Back this file up: it cannot be recovered, only replaced.")
