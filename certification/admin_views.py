"""Staff actions on certificates and awards, reached from the Wagtail admin listings."""

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_http_methods

from certification import eligibility, services
from certification.models import Award, BulkIssue, Certificate
from learners.session_models import TrainingSession

CONFIRM_TEMPLATE = "certification/admin/confirm.html"


def can_manage_certificates(user) -> bool:
    return user.is_active and user.is_staff and user.has_perm("certification.change_certificate")


def _require_manager(request: HttpRequest) -> None:
    if not can_manage_certificates(request.user):
        raise PermissionDenied


def _back_to_certificates() -> HttpResponse:
    return redirect("certification_certificate:index")


class RevokeForm(forms.Form):
    reason = forms.CharField(
        label=gettext_lazy("Reason"),
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=gettext_lazy("Shown to anyone who verifies this certificate."),
    )


def _offered(request: HttpRequest):
    """Valid certificates are offered the action; a form sent back finds the certificate
    whatever it became meanwhile, and the service says why nothing was done."""
    return Certificate.objects.all() if request.method == "POST" else Certificate.objects.valid()


def _holder_removed(certificate: Certificate) -> str:
    return _(
        "Certificate %(code)s no longer names its holder, whose account was erased: its "
        "retention is over, and it has no PDF to render any more."
    ) % {"code": certificate.code}


def _no_longer_valid(certificate: Certificate, regenerating: bool = False) -> str:
    message = (
        _(
            "The PDF of certificate %(code)s was not rendered again: it is no longer valid "
            "(%(status)s) and keeps the PDF its verification page vouches for."
        )
        if regenerating
        else _(
            "Certificate %(code)s was not revoked: it is no longer valid (%(status)s). "
            "Check its successor, if any."
        )
    )
    return message % {"code": certificate.code, "status": certificate.get_status_display()}


@require_http_methods(["GET", "POST"])
def revoke_view(request: HttpRequest, pk: int) -> HttpResponse:
    _require_manager(request)
    certificate = get_object_or_404(_offered(request), pk=pk)
    form = RevokeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if services.revoke(certificate, form.cleaned_data["reason"], by=request.user):
            messages.success(
                request, _("Certificate %(code)s revoked.") % {"code": certificate.code}
            )
        else:
            # Superseded or revoked by someone else since the page was opened.
            certificate.refresh_from_db()
            messages.error(request, _no_longer_valid(certificate))
        return _back_to_certificates()
    return TemplateResponse(
        request,
        CONFIRM_TEMPLATE,
        {
            "title": _("Revoke a certificate"),
            "certificate": certificate,
            "form": form,
            "explanation": _(
                "The certificate stays in the records; its verification page will say it "
                "was revoked, and why."
            ),
            "submit": _("Revoke"),
        },
    )


@require_http_methods(["GET", "POST"])
def reissue_view(request: HttpRequest, pk: int) -> HttpResponse:
    _require_manager(request)
    certificate = get_object_or_404(_offered(request).select_related("learner"), pk=pk)
    if request.method == "POST":
        try:
            new = services.reissue(certificate, by=request.user)
        except services.ReissueRefused as refusal:
            messages.error(request, str(refusal))
            return _back_to_certificates()
        messages.success(
            request,
            _("Certificate re-issued as %(new)s; %(old)s is superseded.")
            % {"new": new.code, "old": certificate.code},
        )
        return _back_to_certificates()
    current_name = services.holder_name(certificate.learner) if certificate.learner else ""
    unchanged = current_name == certificate.holder_name
    return TemplateResponse(
        request,
        CONFIRM_TEMPLATE,
        {
            "title": _("Re-issue a certificate"),
            "certificate": certificate,
            "current_name": current_name,
            "explanation": _(
                "A new certificate is issued naming the holder as their profile now does (a "
                "corrected name); everything else it states stays as attested. The old one is "
                "kept and marked superseded."
            ),
            "submit": _("Re-issue"),
            "blocked": services.expired_refusal(certificate)
            if certificate.is_expired
            else services.same_name_refusal(certificate)
            if unchanged
            else "",
        },
    )


@require_http_methods(["GET", "POST"])
def restore_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Give back an award revoked in error: a new certificate, the revoked one stays."""
    _require_manager(request)
    certificate = get_object_or_404(
        Certificate.objects.filter(status=Certificate.Status.REVOKED).select_related(
            "learner", "award"
        ),
        pk=pk,
    )
    if request.method == "POST":
        try:
            new = services.restore(certificate, by=request.user)
        except services.ReissueRefused as refusal:
            messages.error(request, str(refusal))
        else:
            messages.success(
                request,
                _("The award is given back as certificate %(new)s; %(old)s stays revoked.")
                % {"new": new.code, "old": certificate.code},
            )
            if new.is_expired:
                messages.warning(
                    request,
                    _(
                        "Certificate %(new)s keeps the end of validity of %(old)s, which has "
                        "passed (%(date)s): its verification page says it expired."
                    )
                    % {
                        "new": new.code,
                        "old": certificate.code,
                        "date": date_format(timezone.localtime(new.expires_at), "DATE_FORMAT"),
                    },
                )
        return _back_to_certificates()
    return TemplateResponse(
        request,
        CONFIRM_TEMPLATE,
        {
            "title": _("Issue a revoked award again"),
            "certificate": certificate,
            "explanation": _(
                "Nothing issues an award again after a revocation by itself. If it was "
                "revoked in error, a new certificate is issued now, as long as the holder "
                "still meets the award's criteria; it ends when the revoked one would have. "
                "The revoked one keeps its verification page and its reason."
            ),
            "submit": _("Issue again"),
            "warning": _(
                "Its validity ended on %(date)s: the certificate issued again keeps that end, "
                "so its verification page will say it expired."
            )
            % {"date": date_format(timezone.localtime(certificate.expires_at), "DATE_FORMAT")}
            if certificate.is_expired
            else "",
        },
    )


@require_http_methods(["GET", "POST"])
def regenerate_view(request: HttpRequest, pk: int) -> HttpResponse:
    _require_manager(request)
    # A withdrawn certificate keeps the PDF it was issued with: its holder's copies
    # must still match the hash its verification page gives.
    certificate = get_object_or_404(_offered(request), pk=pk)
    if request.method == "POST":
        with transaction.atomic():
            # Under the row's lock: a revocation or a re-issue meanwhile keeps its PDF.
            locked = (
                Certificate.objects.select_for_update()
                .filter(pk=pk, holder_removed_at__isnull=True)
                .valid()
                .first()
            )
            if locked is not None:
                services.regenerate_pdf(locked)
        if locked is None:
            certificate.refresh_from_db()
            if certificate.holder_removed_at is not None:
                messages.error(request, _holder_removed(certificate))
            else:
                messages.error(request, _no_longer_valid(certificate, regenerating=True))
        else:
            messages.success(request, _("The PDF will be rendered again shortly."))
        return _back_to_certificates()
    return TemplateResponse(
        request,
        CONFIRM_TEMPLATE,
        {
            "title": _("Regenerate the PDF"),
            "certificate": certificate,
            "explanation": _(
                "The PDF is rendered again from the same frozen content; nothing it states changes."
            ),
            "submit": _("Regenerate"),
        },
    )


class BulkForm(forms.Form):
    session = forms.ModelChoiceField(
        label=gettext_lazy("Training session"),
        queryset=TrainingSession.objects.none(),
        required=False,
        empty_label=gettext_lazy("Every eligible learner, whatever their session"),
        help_text=gettext_lazy("Only the learners holding a confirmed seat in this session."),
    )

    def __init__(self, *args, award: Award, mode: str = BulkIssue.Mode.ISSUE, **kwargs):
        super().__init__(*args, **kwargs)
        self.award, self.mode = award, mode
        # Every session, not only those of the award's track: a wrong one gets a
        # message saying why rather than « not one of the available choices ».
        self.fields["session"].queryset = TrainingSession.objects.select_related("track").order_by(
            "-starts_on", "-pk"
        )

    def clean_session(self) -> TrainingSession | None:
        session = self.cleaned_data["session"]
        if session is not None:
            try:
                services.check_session_fits(self.award, session, self.mode)
            except services.BulkRefused as refusal:
                raise forms.ValidationError(str(refusal)) from refusal
        return session


def _bulk_explanation(award: Award, mode: str, session: TrainingSession | None) -> str:
    if session is not None:
        count = len(services.bulk_items(award, mode, session))
        if mode == BulkIssue.Mode.ISSUE:
            return ngettext(
                "%(count)s learner with a confirmed seat in « %(session)s » meets the criteria; "
                "if they do not hold this award yet, they receive it, unless their certificate "
                "was revoked.",
                "%(count)s learners with a confirmed seat in « %(session)s » meet the criteria; "
                "those who do not hold this award yet receive it, except those whose "
                "certificate was revoked.",
                count,
            ) % {"count": count, "session": session}
        return ngettext(
            "The PDF of %(count)s valid certificate held by a learner of « %(session)s » is "
            "rendered again.",
            "The PDFs of %(count)s valid certificates held by learners of « %(session)s » are "
            "rendered again.",
            count,
        ) % {"count": count, "session": session}
    if mode == BulkIssue.Mode.ISSUE:
        count = len(eligibility.candidate_learner_ids(award))
        return ngettext(
            "Every learner who meets the criteria and does not hold it yet receives this "
            "award (%(count)s learner to examine), except those whose certificate was revoked.",
            "Every learner who meets the criteria and does not hold it yet receives this "
            "award (%(count)s learners to examine), except those whose certificate was revoked.",
            count,
        ) % {"count": count}
    count = Certificate.objects.valid().filter(award=award).count()
    return ngettext(
        "The PDF of %(count)s valid certificate is rendered again.",
        "The PDFs of %(count)s valid certificates are rendered again.",
        count,
    ) % {"count": count}


@require_http_methods(["GET", "POST"])
def bulk_view(request: HttpRequest, pk: int, mode: str) -> HttpResponse:
    """Start a bulk job for an award, for everyone or for one session (`?session=` pre-fills it)."""
    _require_manager(request)
    award = get_object_or_404(Award, pk=pk)
    if mode not in BulkIssue.Mode.values:
        raise Http404  # no such page, rather than « not allowed »
    if request.method == "POST":
        form = BulkForm(request.POST, award=award, mode=mode)
    else:
        # Bound when a session is given, so that a wrong one is explained at once.
        form = BulkForm(request.GET if request.GET.get("session") else None, award=award, mode=mode)
    session = form.cleaned_data.get("session") if form.is_valid() else None
    if request.method == "POST" and form.is_valid():
        try:
            job = services.start_bulk(award, request.user, mode, session)
        except services.BulkRefused as refusal:
            form.add_error("session", str(refusal))
        else:
            return redirect("certification:bulk_progress", pk=job.pk)
    return TemplateResponse(
        request,
        CONFIRM_TEMPLATE,
        {
            "title": BulkIssue.Mode(mode).label,
            "award": award,
            "form": form,
            "explanation": _bulk_explanation(award, mode, session),
            "submit": _("Start"),
            "back_url": reverse("certification_award:index"),
        },
    )


def session_bulk_view(request: HttpRequest, pk: int) -> HttpResponse:
    """From a session's admin: the awards its track leads to, each with its bulk forms."""
    _require_manager(request)
    session = get_object_or_404(TrainingSession.objects.select_related("track"), pk=pk)
    awards = Award.objects.for_track(session.track).select_related(
        "module", "block", "framework", "track"
    )
    query = "?" + urlencode({"session": session.pk})
    rows = [
        (
            award,
            [
                (label, reverse("certification_award_bulk", args=[award.pk, mode]) + query)
                for mode, label in BulkIssue.Mode.choices
            ],
        )
        for award in awards
    ]
    return TemplateResponse(
        request,
        "certification/admin/session_bulk.html",
        {
            "title": _("Issue an award to a session"),
            "session": session,
            "rows": rows,
            "jobs": session.bulk_issues.select_related("award", "requested_by")[:10],
        },
    )
