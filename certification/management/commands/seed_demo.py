from django.conf import settings
from django.core.management.base import BaseCommand
from django.urls import reverse

from certification import demo as certification_demo
from certification.models import Certificate
from courses import demo as courses_demo
from learners import demo as learners_demo

# certification sits at the top of the import chain, so the one demo command
# lives here and can seed every app in dependency order.


class Command(BaseCommand):
    help = (
        "Load the demo: frameworks, site tree, tracks, accounts, certificates. Safe to run twice."
    )

    def handle(self, *args, **options) -> None:
        created = courses_demo.seed()
        created += learners_demo.seed()
        created += certification_demo.seed()
        if created:
            self.stdout.write(self.style.SUCCESS(f"Demo loaded: {created} objects created."))
        else:
            self.stdout.write("Demo already loaded: nothing changed.")
        self.stdout.write("Demo accounts (password « campus-demo »):")
        for account in learners_demo.DEMO_ACCOUNTS:
            self.stdout.write(f"  {account['email']:<28} {account['description']}")
        demo_emails = [account["email"] for account in learners_demo.DEMO_ACCOUNTS]
        certificates = Certificate.objects.valid().filter(learner__email__in=demo_emails)
        if certificates:
            self.stdout.write("Demo certificates, verifiable by anyone:")
        for certificate in certificates.select_related("learner", "award"):
            url = settings.SITE_URL + reverse("certification:verify", args=[certificate.code])
            self.stdout.write(
                f"  {certificate.award.title} ({certificate.learner.email})\n    {url}"
            )
