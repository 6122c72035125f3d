"""Agents' light sign-up, invitation links, and the manager's invitation pages."""

import contextlib
from urllib.parse import urlencode

from allauth.account.internal.flows.login_by_code import LoginCodeVerificationProcess
from allauth.core import ratelimit
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db import IntegrityError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from config.pagination import page_context
from learners import identity_checks, invitations, organisations
from learners.models import Invitation, InvitationBatch, User
from learners.organisation_forms import AgentSignupForm, InvitationForm

LOGIN_BACKEND = "allauth.account.auth_backends.AuthenticationBackend"


def _manager_or_404(user: User) -> None:
    # Someone who manages nothing has no business knowing these pages exist.
    if not (user.is_organisation_manager and user.organisation_id):
        raise Http404


# --- Agents ------------------------------------------------------------------------


def _signup_page(request: HttpRequest, form: AgentSignupForm, status: int = 200) -> HttpResponse:
    return render(request, "learners/organisation/agent_signup.html", {"form": form}, status=status)


def agent_signup(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("learners:dashboard")
    # allauth's own limits on sign-ups (per IP address) and on login codes mailed (per
    # address): this form creates accounts and mails codes as its views do.
    # The form comes back as typed, with the reason.
    form = AgentSignupForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and not ratelimit.consume(request, action="signup"):
        form.full_clean()
        form.add_error(
            None, _("Many sign-ups came from your connection just now: wait a minute, then send.")
        )
        return _signup_page(request, form, status=429)
    if request.method == "POST" and form.is_valid():
        if not ratelimit.consume(
            request, action="request_login_code", key=form.cleaned_data["email"]
        ):
            form.add_error(
                "email",
                _("Several codes were just sent to this address: wait a minute, then try again."),
            )
            return _signup_page(request, form, status=429)
        try:
            user = organisations.register_agent(
                email=form.cleaned_data["email"],
                full_name=form.cleaned_data["full_name"],
                job_title=form.cleaned_data["job_title"],
                organisation=form.cleaned_data["organisation"],
                new_organisation=form.new_organisation(),
                unclaimed=form.unclaimed,
            )
        except (IntegrityError, ValidationError):
            # Another request took the address or the organisation's name since
            # the form was checked (a double click): checked again, the form says which.
            form.full_clean()
            if not form.errors:
                form.add_error(None, _("This sign-up could not be recorded: send the form again."))
            return _signup_page(request, form)
        # The same step as allauth's « send me a login code »: typing the code
        # proves the address and logs the agent in, with no password ever set.
        LoginCodeVerificationProcess.initiate(request=request, user=user, email=user.email)
        # Her code typed here confirms the organisation chosen here too.
        request.session[organisations.SIGNED_UP_HERE_KEY] = organisations.signup_proposal(user)
        return redirect("account_confirm_login_code")
    return _signup_page(request, form)


@never_cache
def accept_invitation(request: HttpRequest, token: str) -> HttpResponse:
    # GET only shows the invitation: mail scanners open links, a click on the
    # button (POST) is what uses it.
    if request.method == "POST":
        try:
            user = invitations.accept(token)
        except invitations.InvitationRefused as refusal:
            return render(
                request,
                "learners/organisation/invitation.html",
                {"refusal": str(refusal)},
                status=410,
            )
        login(request, user, backend=LOGIN_BACKEND)
        if not user.has_usable_password():
            # The link came by mail to her address, as her sign-in codes do: a sign-in
            # just now, for what asks her to confirm it's her (her name, first given
            # here). Not for an account with a password: a link that lasts a month is
            # no proof that whoever holds it knows it.
            identity_checks.mark_confirmed(request)
        messages.success(
            request,
            _("Welcome! You joined « %(organisation)s ».") % {"organisation": user.organisation},
        )
        return redirect("learners:dashboard")
    try:
        invitation = invitations.usable_invitation(token)
    except invitations.InvitationRefused as refusal:
        return render(
            request, "learners/organisation/invitation.html", {"refusal": str(refusal)}, status=410
        )
    person = invitations.invitee(invitation.email)
    current = person.organisation if person is not None else None
    if current == invitation.organisation:
        current = None
    return render(
        request,
        "learners/organisation/invitation.html",
        {
            "invitation": invitation,
            # What accepting changes for an existing account, said before the click.
            "leaves": current,
            "stops_managing": person is not None and person.is_organisation_manager,
            "signed_in_as_another": request.user.is_authenticated and request.user != person,
        },
    )


@login_required
def leave_organisation(request: HttpRequest) -> HttpResponse:
    if request.user.organisation_id is None:
        raise Http404
    if request.method == "POST":
        organisations.leave_organisation(request.user)
        messages.success(request, _("You left your organisation."))
        return redirect("learners:profile")
    return render(request, "learners/organisation/leave.html")


@login_required
@require_POST
def answer_proposal(request: HttpRequest) -> HttpResponse:
    # The buttons on her profile: « yes, it is mine » or « no ».
    joined = organisations.answer_proposal(request.user, joins=request.POST.get("joins") == "yes")
    if joined is not None:
        messages.success(
            request, _("Welcome! You joined « %(organisation)s ».") % {"organisation": joined}
        )
    elif request.POST.get("joins") == "no":
        messages.success(request, _("Noted: you are not a member of that organisation."))
    return redirect("learners:profile")


# --- Managers ----------------------------------------------------------------------


@login_required
def invite(request: HttpRequest) -> HttpResponse:
    _manager_or_404(request.user)
    form = InvitationForm(
        request.POST if request.method == "POST" else None,
        request.FILES if request.method == "POST" else None,
    )
    line_errors: list[invitations.LineError] = []
    upload = None
    if request.method == "POST" and form.is_valid():
        try:
            upload = form.cleaned_data["file"]
            rows = (
                # One byte past the limit is enough to refuse a file too large,
                # without reading it all into memory first.
                invitations.rows_from_csv(upload.read(invitations.MAX_UPLOAD_BYTES + 1))
                if upload
                else invitations.rows_from_text(form.cleaned_data["emails"])
            )
            batch = invitations.invite(request.user, rows)
        except invitations.InvitationListRefused as refused:
            line_errors = refused.errors
        else:
            messages.success(request, _("The invitations are being sent."))
            return redirect("organisations:batch_progress", pk=batch.pk)
    if line_errors and upload:
        # The file is what the refusal is about: that field says so, not the addresses'.
        form.fields["file"].widget.attrs.update(
            # Its own help (the columns expected) is still wanted, most of all now.
            {"aria-invalid": "true", "aria-describedby": "error-summary id_file_helptext"}
        )
    return render(
        request,
        "learners/organisation/invite.html",
        {
            "form": form,
            "line_errors": line_errors,
            "file_refused": bool(line_errors and upload),
            "whole_file": bool(line_errors) and all(error.line == 0 for error in line_errors),
            "organisation": request.user.organisation,
        },
        status=400 if line_errors else 200,
    )


def _own_batch(request: HttpRequest, pk: int) -> InvitationBatch:
    _manager_or_404(request.user)
    return get_object_or_404(
        InvitationBatch.objects.filter(organisation_id=request.user.organisation_id), pk=pk
    )


@login_required
def batch_progress(request: HttpRequest, pk: int) -> HttpResponse:
    batch = _own_batch(request, pk)
    invitations_of = batch.invitations.all()
    return render(
        request,
        "learners/organisation/batch_progress.html",
        {
            "batch": batch,
            # What the count of mails sent leaves out, said rather than left to guess.
            "undelivered": invitations_of.filter(undelivered_at__isnull=False).order_by("email"),
            "withdrawn": invitations_of.filter(
                withdrawn_at__isnull=False, sent_at__isnull=True
            ).count(),
        },
    )


@never_cache
@login_required
def batch_progress_json(request: HttpRequest, pk: int) -> JsonResponse:
    return JsonResponse(_own_batch(request, pk).as_progress())


INVITATIONS_PER_PAGE = 50
ADDRESS_SEARCH_MAX = 254


def _pending_invitations(request: HttpRequest):
    return Invitation.objects.pending().filter(organisation_id=request.user.organisation_id)


@never_cache
@login_required
def pending_invitations(request: HttpRequest) -> HttpResponse:
    """Links still waiting for their agent: a mistyped address is withdrawn here
    rather than left valid for a month."""
    _manager_or_404(request.user)
    address = request.GET.get("adresse", "").strip()[:ADDRESS_SEARCH_MAX]
    pending = _pending_invitations(request).order_by("-batch__created_at", "email")
    if address:
        pending = pending.filter(email__icontains=address)
    return render(
        request,
        "learners/organisation/pending_invitations.html",
        {
            **page_context(request, pending, INVITATIONS_PER_PAGE),
            "address": address,
            "validity_days": Invitation.VALIDITY.days,
        },
    )


@require_POST
@login_required
def withdraw_invitation(request: HttpRequest, pk: int) -> HttpResponse:
    _manager_or_404(request.user)
    invitation = get_object_or_404(
        Invitation.objects.filter(organisation_id=request.user.organisation_id), pk=pk
    )
    if invitations.withdraw(invitation):
        messages.success(
            request,
            _("The invitation sent to %(email)s is withdrawn: its link no longer works.")
            % {"email": invitation.email},
        )
        return _back_to_pending(request)
    invitation.refresh_from_db(fields=["accepted_at"])  # it may have been used meanwhile
    if invitation.accepted_at is not None:
        messages.warning(
            request,
            _(
                "%(email)s has already joined the organisation: remove them from the list of "
                "agents if need be."
            )
            % {"email": invitation.email},
        )
    else:
        messages.info(
            request,
            _("The invitation sent to %(email)s was already withdrawn.")
            % {"email": invitation.email},
        )
    return _back_to_pending(request)


def _back_to_pending(request: HttpRequest) -> HttpResponse:
    # The search and the page the manager withdrew from: one withdrawal after another
    # in a long list, without typing the search again.
    query = {}
    if address := request.POST.get("adresse", "").strip()[:ADDRESS_SEARCH_MAX]:
        query["adresse"] = address
    if (page := request.POST.get("page", "")).isdigit() and page != "1":
        query["page"] = page
    url = reverse("organisations:pending_invitations")
    return redirect(f"{url}?{urlencode(query)}" if query else url)


@login_required
def remove_member(request: HttpRequest, pk: int) -> HttpResponse:
    _manager_or_404(request.user)
    member = get_object_or_404(
        organisations.members_of(request.user).exclude(pk=request.user.pk), pk=pk
    )
    # The name the dashboard shows, never the account's own (perhaps personal) address.
    name = organisations.names_for_manager(request.user, [member])[member.pk]
    if member.is_organisation_manager:
        return render(
            request,
            "learners/organisation/remove_member.html",
            {"name": name, "manages": True, "contact": settings.CAMPUS_CONTACT_EMAIL},
            status=403,
        )
    if request.method == "POST":
        # She may have left since the page was loaded (a click at the same moment): she
        # is no member any more, which is what the manager asked; nothing else changes.
        with contextlib.suppress(PermissionError):
            organisations.remove_member(request.user, member)
        messages.success(
            request, _("%(name)s no longer belongs to your organisation.") % {"name": name}
        )
        return redirect("certification:organisation_dashboard")
    return render(request, "learners/organisation/remove_member.html", {"name": name})
