from django.core.management.base import BaseCommand

from learners import indicators


class Command(BaseCommand):
    help = (
        "Recompute the public figures of every live track (people trained, satisfaction, "
        "success). The beat runs it nightly; run it by hand after importing data."
    )

    def handle(self, *args, **options) -> None:
        tracks = indicators.refresh_all()
        if options["verbosity"]:
            self.stdout.write(f"Indicators refreshed for {tracks} track(s).")
