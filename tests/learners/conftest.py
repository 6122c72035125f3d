from dataclasses import dataclass

import pytest

from courses.models import Framework, ModulePage, TrackPage
from tests.learners.factories import make_framework, make_module, make_track


@dataclass
class Journey:
    framework: Framework
    track: TrackPage
    basics: ModulePage  # two lessons, owned by Karim, targets B1.1 and B1.2
    advanced: ModulePage  # two lessons, needs `basics`, owned by Karim, targets B2.1
    closing: ModulePage  # one lesson, owned by Léa, targets B2.1
    other_track: TrackPage  # one module that needs `basics` from the first track
    outside: ModulePage


@pytest.fixture
def journey(db, karim, lea) -> Journey:
    framework = make_framework()
    track = make_track(framework, "Piloter un tiers-lieu (test)")
    basics = make_module(
        track, "Les bases", lessons=2, targets=[("B1.1", 2), ("B1.2", 2)], owner=karim
    )
    advanced = make_module(
        track, "Approfondir", lessons=2, targets=[("B2.1", 2)], prerequisites=[basics], owner=karim
    )
    closing = make_module(track, "Conclure", lessons=1, targets=[("B2.1", 3)], owner=lea)
    other_track = make_track(framework, "Aller plus loin (test)")
    outside = make_module(other_track, "Module externe", lessons=1, prerequisites=[basics])
    return Journey(framework, track, basics, advanced, closing, other_track, outside)
