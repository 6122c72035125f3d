"""Staff author training sessions as snippets (registered in learners/wagtail_hooks.py).

Saving a session plans its half-days and, when the capacity rose, promotes
waiting seats, in the same transaction as the save (no post_save signal: a
fixture load or a data migration must not send mails).
"""

import datetime
import re

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.shortcuts import redirect
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from wagtail.admin.forms import WagtailAdminModelForm
from wagtail.admin.panels import FieldPanel, FieldRowPanel, MultiFieldPanel, ObjectList
from wagtail.admin.ui.tables import Column
from wagtail.snippets.views.snippets import (
    CreateView,
    DeleteView,
    EditView,
    InspectView,
    SnippetViewSet,
)

from learners import seat_admin, sessions
from learners.models import User
from learners.session_models import Attendance, Seat, TrainingSession, iso_dates

# How staff write a date, and the ISO form a pasted list may carry.
DATE_FORMATS = ("%d/%m/%Y", "%Y-%m-%d")


def _parsed(text: str) -> datetime.date | None:
    for date_format in DATE_FORMATS:
        try:
            return datetime.datetime.strptime(text, date_format).date()
        except ValueError:
            continue
    return None


def _stored(item) -> datetime.date | None:
    found = iso_dates([item])
    return found[0] if found else None


class DateListField(forms.CharField):
    """Dates typed as staff write them (« 12/05/2027, 13/05/2027 »), kept sorted as ISO strings."""

    def prepare_value(self, value):
        if isinstance(value, list):
            # A value stored by other means than this form is shown as it is, to be mended.
            return ", ".join(
                f"{day:%d/%m/%Y}" if (day := _stored(item)) else str(item) for item in value
            )
        return value

    def to_python(self, value) -> list[str]:
        text = super().to_python(value)
        days, wrong = set(), []
        for part in re.split(r"[,;\s]+", text):
            if not part:
                continue
            day = _parsed(part)
            if day is None:
                wrong.append(f"« {part} »")
            else:
                days.add(day)
        if wrong:
            raise ValidationError(
                _("%(values)s: not a date. Write each day as DD/MM/YYYY, separated by commas.")
                % {"values": ", ".join(wrong)},
                code="invalid",
            )
        return [day.isoformat() for day in sorted(days)]


class TrainingSessionForm(WagtailAdminModelForm):
    days_off = DateListField(
        required=False,
        label=_("Days without training"),
        help_text=TrainingSession._meta.get_field("days_off").help_text,
    )
    extra_days = DateListField(
        required=False,
        label=_("Weekend or holiday days trained"),
        help_text=TrainingSession._meta.get_field("extra_days").help_text,
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Its current trainers stay offered, closed accounts included: a former trainer
        # left out of the choices would be dropped from the session by any save, and
        # from its attendance sheet, which names who confirmed its signatures.
        current = self.instance.trainers.all() if self.instance.pk else User.objects.none()
        self.fields["trainers"].queryset = User.objects.filter(
            Q(role=User.Role.TRAINER, is_active=True) | Q(pk__in=current.values("pk"))
        ).order_by("full_name", "email")

    def clean_track(self):
        track = self.cleaned_data.get("track")
        session = self.instance
        if (
            session.pk
            and track is not None
            and track.pk != session.track_id
            and session.seats.active().exists()
        ):
            # Her place enrolled her in the old track, and her notices named it: moved,
            # she would hold a place in a track she does not follow, never told.
            raise ValidationError(
                _(
                    "People hold or await a place in this session: its track can no longer "
                    "change. Create the session on the right track and give them a place there."
                )
            )
        return track


class SessionSaveMixin:
    def save_instance(self):
        # Inside the view's transaction: the half-days and the promotions commit with the save.
        before = sessions.details_told(self.form.instance.pk)
        instance = super().save_instance()
        sessions.session_saved(instance, before)
        return instance


class SessionCreateView(SessionSaveMixin, CreateView):
    pass


class SessionEditView(SessionSaveMixin, EditView):
    pass


class SessionInspectView(InspectView):
    template_name = "learners/admin/session_inspect.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        seats = list(
            sessions.with_rank(self.object.seats.select_related("learner")).order_by(
                "requested_at", "pk"
            )
        )
        context["seat_groups"] = [
            (status, label, [seat for seat in seats if seat.status == status])
            for status, label in Seat.Status.choices
        ]
        context["half_days"] = self.object.half_days.all()
        # The seat tools, while the session is not over (learners/seat_admin.py).
        context["seat_tools"] = (
            seat_admin.can_manage_seats(self.request.user)
            and self.object.ends_on >= timezone.localdate()
        )
        context["give_place_form"] = seat_admin.GivePlaceForm()
        context["give_place_typed"] = seat_admin.typed_give_place(self.request, self.object.pk)
        return context


def _places(session: TrainingSession) -> str:
    return f"{session.confirmed_count} / {session.capacity}"


class SessionDeleteView(DeleteView):
    """Deleting a session takes its seats and attendance with it: refused once attendance
    is recorded (training evidence for Qualiopi and funders); otherwise the people who
    hold or await a place are named, since nothing tells them."""

    def get(self, request, *args, **kwargs):
        if refusal := self._refusal():
            messages.error(request, refusal)
            return redirect(self.get_success_url())
        holders = list(
            self.object.seats.active().select_related("learner").order_by("learner__full_name")
        )
        if holders:
            messages.warning(
                request,
                ngettext(
                    "%(count)s person holds or awaits a place and will not be told by the "
                    "platform: write to them first. %(people)s",
                    "%(count)s people hold or await a place and will not be told by the "
                    "platform: write to them first. %(people)s",
                    len(holders),
                )
                % {
                    "count": len(holders),
                    "people": ", ".join(
                        f"{seat.learner.display_name} <{seat.learner.email}>" for seat in holders
                    ),
                },
            )
        return super().get(request, *args, **kwargs)

    def form_valid(self, form):
        if refusal := self._refusal():
            messages.error(self.request, refusal)
            return redirect(self.get_success_url())
        return super().form_valid(form)

    def _refusal(self) -> str | None:
        return deletion_refusal([self.object])


def deletion_refusal(sessions: list[TrainingSession]) -> str | None:
    """Why these sessions cannot be deleted, None when they may: attendance recorded
    is training evidence (Qualiopi, funders), and deleting a session deletes it."""
    evidenced = [
        session
        for session in sessions
        if Attendance.objects.filter(half_day__session=session).exists()
    ]
    if not evidenced:
        return None
    if sessions == evidenced and len(sessions) == 1:
        return _(
            "This session has attendance recorded: it is training evidence (Qualiopi, "
            "funders) and the session cannot be deleted."
        )
    return _(
        "Nothing was deleted: these sessions have attendance recorded, which is training "
        "evidence (Qualiopi, funders): %(sessions)s."
    ) % {"sessions": ", ".join(str(session) for session in evidenced)}


class TrainingSessionViewSet(SnippetViewSet):
    pk_path_converter = "pk"  # ids past 64 bits: a 404, not a 500 (config/converters.py)
    model = TrainingSession
    icon = "date"
    menu_label = _("Training sessions")
    menu_order = 250
    add_to_admin_menu = True
    add_view_class = SessionCreateView
    edit_view_class = SessionEditView
    inspect_view_class = SessionInspectView
    delete_view_class = SessionDeleteView
    inspect_view_enabled = True
    copy_view_enabled = False
    list_display = [
        "__str__",
        "track",
        "starts_on",
        "ends_on",
        "format",
        Column("places", label=_("Places taken / capacity"), accessor=_places),
    ]
    list_filter = ["track", "format"]
    edit_handler = ObjectList(
        [
            FieldPanel("track"),
            FieldPanel("title"),
            FieldPanel("format"),
            FieldRowPanel([FieldPanel("starts_on"), FieldPanel("ends_on")]),
            MultiFieldPanel(
                [FieldPanel("days_off"), FieldPanel("extra_days")],
                heading=_("Training days"),
            ),
            MultiFieldPanel(
                [
                    FieldPanel("periods"),
                    FieldRowPanel([FieldPanel("morning_starts_at"), FieldPanel("morning_ends_at")]),
                    FieldRowPanel(
                        [FieldPanel("afternoon_starts_at"), FieldPanel("afternoon_ends_at")]
                    ),
                ],
                heading=_("Hours of each training day"),
            ),
            MultiFieldPanel(
                [FieldPanel("place_name"), FieldPanel("place_address"), FieldPanel("online_link")],
                heading=_("Where"),
            ),
            FieldPanel("trainers", widget=forms.CheckboxSelectMultiple),
            FieldPanel("capacity"),
        ],
        base_form_class=TrainingSessionForm,
    )

    def get_queryset(self, request):
        return sessions.with_places(TrainingSession.objects.select_related("track"))
