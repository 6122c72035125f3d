"""What an organisation's manager sees of their agents: name, progress, attestations.

Nothing else about the agents leaves this module: no email address, no
ledger, no lesson detail, and of their certificates only those of the awareness
training the organisation follows (its tracks' and their modules' attestations; a
facilitator's other module or block attestations are hers, not her employer's).
The figures come in a fixed number of queries per awareness track, whatever the
number of agents.
"""

from dataclasses import dataclass, field

from django.db.models import Q

from certification.models import Award, Certificate
from courses.models import ModulePage, TrackPage
from learners import organisations
from learners.models import User


@dataclass
class AgentRow:
    pk: int
    name: str
    progress: int  # percent of the awareness track's lessons done
    attestations: list[Certificate] = field(default_factory=list)
    manages: bool = False  # a fellow manager: staff appoint and remove managers

    @property
    def aware(self) -> bool:
        return any(c.award.kind == Award.Kind.AWARENESS for c in self.attestations)


def awareness_tracks() -> list[TrackPage]:
    """The tracks whose completion earns an awareness attestation."""
    return list(
        TrackPage.objects.filter(
            awards__kind=Award.Kind.AWARENESS, awards__is_active=True
        ).distinct()
    )


def _modules_of(tracks: list[TrackPage]) -> list[int]:
    modules = ModulePage.objects.none()
    for track in tracks:
        modules = modules | ModulePage.objects.descendant_of(track)
    return list(modules.values_list("pk", flat=True))


def agents_overview(manager: User, only: list[int] | None = None) -> list[AgentRow]:
    """Every member's row, or only those of the members `only` names (a page of them)."""
    members = organisations.members_of(manager)
    if only is not None:
        members = members.filter(pk__in=only)
    people = list(
        members.order_by("full_name", "email").only("pk", "full_name", "is_organisation_manager")
    )
    if not people:
        return []
    tracks = awareness_tracks()
    progress = organisations.progress_by_member(members, tracks)
    names = organisations.names_for_manager(manager, people)
    rows = {
        person.pk: AgentRow(
            person.pk,
            names[person.pk],
            progress.get(person.pk, 0),
            manages=person.is_organisation_manager,
        )
        for person in people
    }
    certificates = (
        Certificate.objects.valid()
        .filter(learner__in=members)
        .filter(
            Q(award__kind=Award.Kind.AWARENESS)
            | Q(award__track__in=tracks)
            | Q(award__module__in=_modules_of(tracks))
        )
        .select_related("award")
        .order_by("issued_at", "pk")
    )
    for certificate in certificates:
        if not certificate.is_expired:
            rows[certificate.learner_id].attestations.append(certificate)
    return list(rows.values())
