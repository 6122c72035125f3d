"""Organisations and their members: agent sign-up, leaving, removal, progress of members."""

import datetime

from allauth.account import app_settings as allauth_settings
from allauth.account.models import EmailAddress
from django.db import IntegrityError, transaction
from django.db.models import Count, Exists, OuterRef, QuerySet
from django.db.models.functions import Substr
from django.utils import timezone
from django.utils.translation import gettext
from wagtail.models import Page

from courses.models import LessonPage, ModulePage, TrackPage
from learners import page_versions
from learners.models import Invitation, LessonProgress, Organisation, User


def unclaimed_signup(email: str) -> User | None:
    """The account an agent's sign-up made for `email` if nobody ever typed its code:
    no address confirmed, never logged in, no password, nothing followed. None
    otherwise, and None while its login code may still be typed: a second sign-up
    must not rewrite what the owner, code in hand, is about to confirm."""
    if EmailAddress.objects.filter(email__iexact=email, verified=True).exists():
        return None
    accounts = list(User.objects.filter(email__iexact=email)[:2])
    if len(accounts) != 1:
        return None
    (account,) = accounts
    code_still_valid = timezone.now() - datetime.timedelta(
        seconds=allauth_settings.LOGIN_BY_CODE_TIMEOUT
    )
    unclaimed = (
        account.role == User.Role.PUBLIC_AGENT
        and account.date_joined < code_still_valid
        and not account.enrolments.exists()
        and account.last_login is None
        and not account.has_usable_password()
        and account.is_active
        and account.erased_at is None
    )
    return account if unclaimed else None


@transaction.atomic
def register_agent(
    *,
    email: str,
    full_name: str,
    job_title: str,
    organisation: Organisation | None = None,
    new_organisation: dict | None = None,
    unclaimed: User | None = None,
) -> User:
    """Create a public agent's account without a password, in an existing or a new organisation.

    The address stays unverified until the person types the login code mailed to it.
    The organisation is also only proposed until then (`settle_proposed_organisation`).
    `unclaimed`: an earlier sign-up with this address whose code was never typed
    (`unclaimed_signup`); this one replaces what it said (name, organisation), so
    that nobody can place someone else's address in an organisation of their choice.
    """
    if organisation is None:
        if not new_organisation:
            raise ValueError("An organisation, existing or new, is required.")
        # Offered to other agents once the team has read the name (Organisation.listing).
        organisation = Organisation(**new_organisation, listing=Organisation.Listing.TO_CHECK)
        organisation.full_clean()
        organisation.save()
    if unclaimed is not None:
        claimed = User.objects.select_for_update().get(pk=unclaimed.pk)
        if claimed.last_login is not None:
            raise IntegrityError("The account was claimed meanwhile.")
        claimed.full_name, claimed.job_title = full_name, job_title
        claimed.organisation = claimed.proposed_organisation = organisation
        claimed.save(
            update_fields=["full_name", "job_title", "organisation", "proposed_organisation"]
        )
        return claimed
    user = User.objects.create_user(
        email=email,
        full_name=full_name,
        job_title=job_title,
        role=User.Role.PUBLIC_AGENT,
        organisation=organisation,
        proposed_organisation=organisation,
    )
    EmailAddress.objects.create(user=user, email=user.email, verified=False, primary=True)
    return user


# Set in the session of the browser that sent an agent's sign-up, to what it proposed.
SIGNED_UP_HERE_KEY = "learners:agent_signed_up"


def signup_proposal(user: User) -> list:
    """What a sign-up proposed for the account, as the browser that sent it keeps it: a
    later sign-up whose code was never typed either rewrites it (`unclaimed`), and the
    first browser must not then confirm an organisation and a name it never chose."""
    return [user.pk, user.proposed_organisation_id, user.full_name, user.job_title]


class Proposal:
    """What became of the organisation a sign-up named, at the person's first login."""

    CONFIRMED = "confirmed"  # her code, typed where she signed up: she named it
    ASKED = "asked"  # typed elsewhere: whoever signed up may not be her


@transaction.atomic
def settle_proposed_organisation(user: User, *, signed_up_here: bool) -> str | None:
    """At a login, settle the organisation a sign-up proposed for this account.

    Typing the sign-up's code in the browser that sent the sign-up proves that the
    person who chose the organisation owns the address. Any other login (the code
    asked for later, elsewhere) proves only the address: the sign-up may have been
    someone else's, naming an organisation whose manager would then follow her
    training. So she is no member until she answers (`answer_proposal`).
    Returns what happened, None when nothing was proposed.
    """
    locked = User.objects.select_for_update().get(pk=user.pk)
    if locked.proposed_organisation_id is None:
        return None
    outcome = None
    if locked.organisation_id != locked.proposed_organisation_id:
        # The team placed her elsewhere since: their choice stands, nothing to ask.
        locked.proposed_organisation = None
    elif signed_up_here:
        locked.proposed_organisation = None
        outcome = Proposal.CONFIRMED
        _invitations_answered(locked)
    else:
        locked.organisation = None
        locked.is_organisation_manager = False
        outcome = Proposal.ASKED
    locked.save(update_fields=["organisation", "proposed_organisation", "is_organisation_manager"])
    user.organisation_id = locked.organisation_id
    user.proposed_organisation_id = locked.proposed_organisation_id
    user.is_organisation_manager = locked.is_organisation_manager
    return outcome


@transaction.atomic
def answer_proposal(user: User, *, joins: bool) -> Organisation | None:
    """The person says whether the organisation her sign-up named is hers; returns the
    organisation joined, None when she declined or nothing was proposed any more."""
    locked = User.objects.select_for_update().get(pk=user.pk)
    proposed = locked.proposed_organisation
    if proposed is None or locked.organisation_id is not None:
        return None
    locked.proposed_organisation = None
    if joins:
        locked.organisation = proposed
        _invitations_answered(locked)
    locked.save(update_fields=["organisation", "proposed_organisation"])
    user.organisation_id = locked.organisation_id
    user.proposed_organisation_id = None
    return proposed if joins else None


def _invitations_answered(member: User) -> None:
    # Invitations her organisation sent her have nothing left to do once she joined
    # by signing up: they leave the manager's list of invitations pending.
    addresses = EmailAddress.objects.filter(user=member, verified=True).values_list(
        "email", flat=True
    )
    Invitation.objects.withdraw_for(member.organisation_id, list(addresses))


@transaction.atomic
@transaction.atomic
def leave_organisation(user: User) -> bool:
    """The person leaves the organisation `user` says she belongs to; False when she
    had none, or belongs to it no more (left, removed, or joined another meanwhile:
    that stands, and a removal must not undo a membership just made elsewhere).

    Its invitations to her still usable are withdrawn: an older link would
    otherwise bring back someone who left, or whom the manager removed.
    """
    if user.organisation_id is None:
        return False
    locked = User.objects.select_for_update().get(pk=user.pk)
    if locked.organisation_id != user.organisation_id:
        return False
    # Confirmed addresses only: anyone may add someone else's address, unconfirmed.
    addresses = list(
        EmailAddress.objects.filter(user=user, verified=True).values_list("email", flat=True)
    )
    Invitation.objects.withdraw_for(locked.organisation_id, addresses)
    locked.organisation = None
    locked.is_organisation_manager = False
    locked.save(update_fields=["organisation", "is_organisation_manager"])
    user.organisation, user.is_organisation_manager = None, False
    return True


def confirmed_members(organisation_id: int) -> QuerySet[User]:
    """Active members of the organisation whose address is confirmed.

    Anyone may name an organisation when signing up, with any address, and is
    nobody's agent until the code mailed to that address was typed (an
    invitation's link confirms it too).
    """
    confirmed = EmailAddress.objects.filter(user=OuterRef("pk"), verified=True)
    return User.objects.filter(
        Exists(confirmed),
        organisation_id=organisation_id,
        is_active=True,
        erased_at__isnull=True,
    )


def members_of(manager: User) -> QuerySet[User]:
    """The people a manager follows: the confirmed members of their organisation, none
    otherwise."""
    if not manager.is_organisation_manager or manager.organisation_id is None:
        return User.objects.none()
    return confirmed_members(manager.organisation_id)


@transaction.atomic
def appoint_managers(organisation: Organisation, managers: list[User]) -> None:
    """Make exactly `managers` the organisation's managers (référent·e·s): the team's
    decision, as a manager only invites and removes agents. Only confirmed members
    can be appointed; the others named are ignored.

    Each update checks the organisation again in its own WHERE: someone who joined
    another organisation meanwhile (an invitation accepted) is not made its manager.
    """
    chosen = [user.pk for user in managers]
    former = User.objects.filter(organisation=organisation, is_organisation_manager=True)
    dropped = list(former.exclude(pk__in=chosen).values_list("pk", flat=True))
    former.filter(pk__in=dropped).update(is_organisation_manager=False)
    candidates = confirmed_members(organisation.pk).filter(
        pk__in=chosen, is_organisation_manager=False
    )
    appointed = list(candidates.values_list("pk", flat=True))
    candidates.filter(pk__in=appointed).update(is_organisation_manager=True)
    # Their pages show (or stop showing) the organisation's: kept pages must go.
    page_versions.touch(dropped + appointed)


def names_for_manager(manager: User, people: list[User]) -> dict[int, str]:
    """How the manager sees each of `people`: the name they gave, else the address the
    organisation invited them at, never the account's own address.

    That one may be personal, and agents are told their manager sees their name and
    training only.
    """
    nameless = [person.pk for person in people if not person.full_name]
    invited_as = (
        dict(
            Invitation.objects.filter(
                accepted_by__in=nameless, organisation_id=manager.organisation_id
            )
            .order_by("accepted_at")
            .values_list("accepted_by", "email")
        )
        if nameless
        else {}
    )
    return {
        person.pk: person.full_name
        or invited_as.get(person.pk)
        or gettext("Agent with no name given")
        for person in people
    }


def remove_member(manager: User, member: User) -> bool:
    """Remove `member` from the manager's organisation; their account and progress stay.

    Not a fellow manager: staff appoint managers, and only staff take the role back.
    """
    if member.pk == manager.pk or not members_of(manager).filter(pk=member.pk).exists():
        raise PermissionError("A manager removes other members of their own organisation only.")
    if member.is_organisation_manager:
        raise PermissionError("Staff, not a fellow manager, remove a manager.")
    # False when she left or joined another organisation since: checked under lock.
    return leave_organisation(member)


def progress_by_member(members: QuerySet[User], tracks: list[TrackPage]) -> dict[int, int]:
    """Percent of an awareness track's live lessons each member has done: of the track
    they went furthest in, when there are several (finishing one is finishing the
    training, not half of two). Lessons of a live module only, as her own dashboard
    counts them: a module withdrawn (or past its expiry) keeps its lessons live, and
    they would hold at 67 % an agent attested as having completed the track. Two
    queries per track, whatever the number of members."""
    best: dict[int, int] = {}
    for track in tracks:
        live_modules = ModulePage.objects.live().child_of(track).values("path")
        # A lesson's parent is the start of its path, one step shorter.
        module_path = Substr("path", 1, len(track.path) + Page.steplen)
        lesson_ids = list(
            LessonPage.objects.live()
            .descendant_of(track)
            .annotate(module_path=module_path)
            .filter(module_path__in=live_modules)
            .values_list("pk", flat=True)
        )
        if not lesson_ids:
            continue
        done = (
            LessonProgress.objects.filter(learner__in=members, lesson_id__in=lesson_ids)
            .values("learner_id")
            .annotate(done=Count("lesson_id", distinct=True))
            .values_list("learner_id", "done")
        )
        for learner_id, count in done:
            percent = round(100 * count / len(lesson_ids))
            best[learner_id] = max(best.get(learner_id, 0), percent)
    return best
