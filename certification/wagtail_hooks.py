"""Wagtail admin: awards (what can be earned) and certificates (what was issued).

Both follow Django's model permissions: superusers, or a group the operating
team grants them to; trainers have admin access but none of these.
"""

import django_filters
from django.db.models import F, OuterRef, Q, Subquery
from django.shortcuts import redirect
from django.urls import path, reverse
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _
from wagtail import hooks
from wagtail.admin.filters import WagtailFilterSet
from wagtail.admin.menu import MenuItem as AdminMenuItem
from wagtail.admin.ui.menus import MenuItem
from wagtail.admin.ui.tables import Column
from wagtail.admin.views.generic import IndexView, InspectView
from wagtail.admin.viewsets.model import ModelViewSet, ModelViewSetGroup
from wagtail.permission_policies import ModelPermissionPolicy
from wagtail.permissions import register_permission_policy

from certification import admin_views, evidence_views, services
from certification.models import Award, BulkIssue, Certificate
from learners.session_models import TrainingSession


class AwardIndexView(IndexView):
    def get_list_more_buttons(self, instance):
        buttons = super().get_list_more_buttons(instance)
        if admin_views.can_manage_certificates(self.request.user):
            for mode, label, icon in (
                (BulkIssue.Mode.ISSUE, _("Issue to eligible learners"), "group"),
                (BulkIssue.Mode.REGENERATE, _("Regenerate all PDFs"), "repeat"),
            ):
                buttons.append(
                    MenuItem(
                        label,
                        url=reverse("certification_award_bulk", args=[instance.pk, mode]),
                        icon_name=icon,
                        priority=40,
                    )
                )
        return buttons


class AwardViewSet(ModelViewSet):
    pk_path_converter = "pk"  # ids past 64 bits: a 404, not a 500 (config/converters.py)
    name = "awards"
    url_namespace = "certification_award"
    model = Award
    index_view_class = AwardIndexView
    icon = "trophy"
    menu_label = _("Awards")
    list_display = [
        "title",
        "kind",
        Column("target", label=_("Awarded for")),
        "validity_months",
        "is_active",
    ]
    list_filter = ["kind", "is_active"]
    search_fields = ["title", "criteria"]
    form_fields = [
        "kind",
        "title",
        "criteria",
        "module",
        "block",
        "framework",
        "track",
        "validity_months",
        "signatory_name",
        "signatory_title",
        "is_active",
    ]
    copy_view_enabled = False

    def get_queryset(self, request):
        return Award.objects.select_related("module", "block", "framework", "track")


class CertificatePermissionPolicy(ModelPermissionPolicy):
    """Certificates are issued by the services and kept for the legal retention
    period: nobody adds or deletes them by hand, whatever their permissions."""

    def user_has_permission(self, user, action):
        if action in ("add", "delete"):
            return False
        return super().user_has_permission(user, action)

    def user_has_any_permission(self, user, actions):
        return any(self.user_has_permission(user, action) for action in actions)


register_permission_policy(Certificate, CertificatePermissionPolicy(Certificate), exact_class=True)


class CertificateIndexView(IndexView):
    def get_edit_url(self, instance):
        return None  # frozen: corrections go through re-issue

    @cached_property
    def restorable(self) -> set[int]:
        """Revoked certificates that are their learner's latest of their award: only
        those may be given back (services.restore), one query for the whole page."""
        newest = Certificate.objects.filter(
            learner_id=OuterRef("learner_id"), award_id=OuterRef("award_id")
        ).order_by("-pk")
        return set(
            Certificate.objects.filter(status=Certificate.Status.REVOKED)
            .annotate(newest=Subquery(newest.values("pk")[:1]))
            .filter(pk=F("newest"))
            .values_list("pk", flat=True)
        )

    def get_list_more_buttons(self, instance):
        buttons = super().get_list_more_buttons(instance)
        if not admin_views.can_manage_certificates(self.request.user):
            return buttons
        actions = []
        if instance.is_downloadable:
            actions.append((_("Download the PDF"), instance.get_pdf_url(), "download"))
        if instance.status == Certificate.Status.VALID and instance.holder_removed_at is None:
            # A withdrawn certificate keeps its PDF and its hash, and is not re-issued;
            # one that no longer names its holder has nothing left to print.
            actions.append(
                (
                    _("Regenerate the PDF"),
                    reverse("certification_regenerate", args=[instance.pk]),
                    "repeat",
                )
            )
            learner = instance.learner
            # Re-issue is for a corrected name: offered once the profile's differs.
            if (
                learner is not None
                and learner.erased_at is None
                and services.holder_name(learner) not in ("", instance.holder_name)
            ):
                actions.append(
                    (
                        _("Re-issue (name corrected)"),
                        reverse("certification_reissue", args=[instance.pk]),
                        "edit",
                    )
                )
            actions.append(
                (_("Revoke"), reverse("certification_revoke", args=[instance.pk]), "cross")
            )
        if instance.status == Certificate.Status.REVOKED and instance.pk in self.restorable:
            actions.append(
                (
                    _("Issue again (revoked in error)"),
                    reverse("certification_restore", args=[instance.pk]),
                    "undo",
                )
            )
        for priority, (label, url, icon) in enumerate(actions, start=40):
            buttons.append(MenuItem(label, url=url, icon_name=icon, priority=priority))
        return buttons


def _edit_is_inspect(request, pk):
    return redirect("certification_certificate:inspect", pk)


class CertificateFilterSet(WagtailFilterSet):
    # As the list and the verification page say it: a valid certificate past its end
    # is « expired », not « valid ».
    status = django_filters.ChoiceFilter(
        label=_("Status"),
        choices=[
            (Certificate.Status.VALID, Certificate.Status.VALID.label),
            ("expired", _("Expired")),
            (Certificate.Status.REVOKED, Certificate.Status.REVOKED.label),
            (Certificate.Status.SUPERSEDED, Certificate.Status.SUPERSEDED.label),
        ],
        method="filter_status",
    )
    evidence_withdrawn = django_filters.BooleanFilter(
        label=_("Evidence withdrawn since issued"),
        method="filter_evidence_withdrawn",
        help_text=_("A grading corrected after the certificate was issued: read it again."),
    )

    class Meta:
        model = Certificate
        fields = ["award", "status"]

    def filter_status(self, queryset, name, value):
        ended = Q(expires_at__isnull=False, expires_at__lte=timezone.now())
        if value == "expired":
            return queryset.filter(ended, status=Certificate.Status.VALID)
        if value == Certificate.Status.VALID:
            return queryset.filter(status=value).exclude(ended)
        return queryset.filter(status=value)

    def filter_evidence_withdrawn(self, queryset, name, value):
        withdrawn = Certificate.objects.evidence_withdrawn_since_issued().values("pk")
        return queryset.filter(pk__in=withdrawn) if value else queryset.exclude(pk__in=withdrawn)


class CertificateInspectView(InspectView):
    def get_status_display_value(self) -> str:
        return self.object.get_public_status_display()


class CertificateViewSet(ModelViewSet):
    pk_path_converter = "pk"
    name = "certificates"
    url_namespace = "certification_certificate"
    model = Certificate
    index_view_class = CertificateIndexView
    icon = "doc-full"
    menu_label = _("Certificates")
    list_display = [
        "code",
        Column("holder_name", label=_("Holder")),
        "award",
        Column("status", label=_("Status"), accessor="get_public_status_display"),
        "issued_at",
        "expires_at",
    ]
    filterset_class = CertificateFilterSet
    search_fields = ["code", "learner__full_name", "learner__email", "context__holder__name"]
    inspect_view_enabled = True
    inspect_view_class = CertificateInspectView
    inspect_view_fields = [
        "code",
        "award",
        "learner",
        "status",
        "issued_at",
        "issued_by",
        "expires_at",
        "revoked_at",
        "revoked_by",
        "revocation_reason",
        "superseded_by",
        "pdf_sha256",
        "rendered_at",
        "context",
    ]
    copy_view_enabled = False
    form_fields = ["revocation_reason"]  # unused: editing redirects to the inspect view

    @property
    def edit_view(self):
        return _edit_is_inspect

    def get_queryset(self, request):
        return Certificate.objects.select_related("award", "learner")


class CertificationGroup(ModelViewSetGroup):
    menu_label = _("Certification")
    menu_icon = "trophy"
    menu_order = 260
    items = (AwardViewSet, CertificateViewSet)


@hooks.register("register_admin_viewset")
def register_certification_viewsets():
    return CertificationGroup()


@hooks.register("register_admin_urls")
def register_certification_admin_urls():
    return [
        path(
            "certificates/<pk:pk>/revoke/",
            admin_views.revoke_view,
            name="certification_revoke",
        ),
        path(
            "certificates/<pk:pk>/reissue/",
            admin_views.reissue_view,
            name="certification_reissue",
        ),
        path(
            "certificates/<pk:pk>/restore/",
            admin_views.restore_view,
            name="certification_restore",
        ),
        path(
            "certificates/<pk:pk>/regenerate/",
            admin_views.regenerate_view,
            name="certification_regenerate",
        ),
        path(
            "awards/<pk:pk>/bulk/<str:mode>/",
            admin_views.bulk_view,
            name="certification_award_bulk",
        ),
        path(
            "awards/sessions/<pk:pk>/",
            admin_views.session_bulk_view,
            name="certification_session_bulk",
        ),
    ]


# --- Qualiopi evidence packs of training sessions --------------------------------------------


class EvidencePacksMenuItem(AdminMenuItem):
    def is_shown(self, request):
        return evidence_views.can_build_packs(request.user)


@hooks.register("register_admin_menu_item")
def register_evidence_packs_menu_item():
    return EvidencePacksMenuItem(
        _("Evidence packs"),
        reverse("certification_evidence_packs"),
        icon_name="folder-open-inverse",
        order=261,
    )


@hooks.register("register_snippet_listing_buttons")
def evidence_pack_button(snippet, user, next_url=None):
    # Sessions are registered by learners, which cannot know about certification.
    if not isinstance(snippet, TrainingSession) or not evidence_views.can_build_packs(user):
        return []
    return [
        MenuItem(
            _("Evidence pack"),
            url=reverse("certification_evidence_request", args=[snippet.pk]),
            icon_name="folder-open-inverse",
            priority=45,
        )
    ]


@hooks.register("register_snippet_listing_buttons")
def session_bulk_button(snippet, user, next_url=None):
    if not isinstance(snippet, TrainingSession) or not admin_views.can_manage_certificates(user):
        return []
    return [
        MenuItem(
            _("Issue an award"),
            url=reverse("certification_session_bulk", args=[snippet.pk]),
            icon_name="group",
            priority=46,
        )
    ]


@hooks.register("register_admin_urls")
def register_evidence_admin_urls():
    return [
        path("evidence-packs/", evidence_views.sessions_view, name="certification_evidence_packs"),
        path(
            "evidence-packs/sessions/<pk:pk>/",
            evidence_views.request_view,
            name="certification_evidence_request",
        ),
    ]
