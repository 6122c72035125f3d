"""Two demo sessions of the facilitator track: on site at a Fabrique de territoire, and online.

Dates follow the day the demo is seeded, so the sessions are always upcoming;
they are found again by title, so seeding twice creates nothing.
"""

import datetime

from django.utils import timezone

from courses.models import TrackPage
from courses.models.pages import Format
from learners import sessions
from learners.models import User
from learners.session_models import Seat, TrainingSession

DEMO_SESSIONS = [
    {
        "title": "Session en présentiel — Fabrique du Pays de Démo",
        "format": Format.ON_SITE,
        "starts_in_days": 21,
        "days": 2,
        "place_name": "La Fabrique du Pays de Démo (Fabrique de territoire)",
        "place_address": "12 rue des Ateliers\n23000 Guéret",
        "capacity": 8,
        "confirm_learner": True,
    },
    {
        "title": "Session en ligne",
        "format": Format.ONLINE,
        "starts_in_days": 35,
        "days": 1,
        "online_link": "https://visio.example.org/campus-demo",
        "capacity": 12,
        "confirm_learner": False,
    },
]


def seed(track: TrackPage, learner: User, trainer: User | None) -> int:
    """Create the demo sessions, their half-days, and the demo facilitator's confirmed place."""
    created = 0
    today = timezone.localdate()
    for spec in DEMO_SESSIONS:
        starts_on = today + datetime.timedelta(days=spec["starts_in_days"])
        session, session_created = TrainingSession.objects.get_or_create(
            track=track,
            title=spec["title"],
            defaults={
                "format": spec["format"],
                "starts_on": starts_on,
                "ends_on": starts_on + datetime.timedelta(days=spec["days"] - 1),
                "place_name": spec.get("place_name", ""),
                "place_address": spec.get("place_address", ""),
                "online_link": spec.get("online_link", ""),
                "capacity": spec["capacity"],
            },
        )
        if not session_created:
            continue
        created += 1
        if trainer is not None:
            session.trainers.add(trainer)
        sessions.plan_half_days(session)
        if spec["confirm_learner"]:
            # Written directly rather than through take_seat: seeding sends no mail.
            now = timezone.now()
            Seat.objects.create(
                session=session,
                learner=learner,
                status=Seat.Status.CONFIRMED,
                requested_at=now,
                confirmed_at=now,
            )
    return created
