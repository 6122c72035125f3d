"""Satisfaction results per track and per session (Qualiopi indicator 30).

Figures keep sums and counts, not averages, so that they add up exactly and a
page can say « no answer yet » instead of a misleading zero. Everything is read
in a fixed number of queries, whatever the number of tracks and sessions.
"""

from dataclasses import dataclass, field
from typing import TextIO

from django.db.models import Count, Q, Sum
from django.utils.formats import number_format
from django.utils.translation import gettext_lazy as _
from wagtail.models import Page

from courses.models import ModulePage, TrackPage
from learners.assessment_models import Satisfaction
from learners.quality_models import ColdSurvey, Feedback
from learners.session_models import Seat, TrainingSession
from learners.spreadsheets import SpreadsheetWriter

SATISFIED_FROM = 4  # a rating of 4 or 5 out of 5 counts as satisfied


def _ratio(part: int, whole: int, scale: int = 1) -> float | None:
    return round(scale * part / whole, 1) if whole else None


@dataclass
class Ratings:
    """Answers on a 1–5 scale: how many, their sum, how many satisfied."""

    count: int = 0
    total: int = 0
    satisfied: int = 0

    def add(self, count: int, total: int | None, satisfied: int) -> None:
        self.count += count
        self.total += total or 0
        self.satisfied += satisfied

    @property
    def average(self) -> float | None:
        return _ratio(self.total, self.count)

    @property
    def satisfied_percent(self) -> float | None:
        return _ratio(self.satisfied, self.count, 100)


@dataclass
class Figures:
    hot: Ratings = field(default_factory=Ratings)
    cold_scheduled: int = 0
    cold_sent: int = 0
    cold_answered: int = 0
    cold_rating: Ratings = field(default_factory=Ratings)
    cold_usefulness: Ratings = field(default_factory=Ratings)
    cold_applied: int = 0
    cold_applied_answers: int = 0
    trainer_feedback: Ratings = field(default_factory=Ratings)
    funder_feedback: Ratings = field(default_factory=Ratings)
    trainer_feedback_count: int = 0
    funder_feedback_count: int = 0

    @property
    def cold_response_percent(self) -> float | None:
        return _ratio(self.cold_answered, self.cold_sent, 100)

    @property
    def cold_applied_percent(self) -> float | None:
        return _ratio(self.cold_applied, self.cold_applied_answers, 100)


@dataclass
class SessionResults:
    session: TrainingSession
    figures: Figures


@dataclass
class TrackResults:
    track: TrackPage
    figures: Figures
    sessions: list[SessionResults]


def _rating_aggregates(field_name: str) -> dict:
    return {
        "n": Count(field_name),
        "total": Sum(field_name),
        "satisfied": Count("pk", filter=Q(**{f"{field_name}__gte": SATISFIED_FROM})),
    }


def results(tracks=None) -> list[TrackResults]:
    """Every track's figures, and those of each of its sessions."""
    tracks = list((tracks if tracks is not None else TrackPage.objects.all()).order_by("path"))
    by_track = {t.pk: TrackResults(t, Figures(), []) for t in tracks}
    track_of_path = {t.path: t.pk for t in tracks}
    track_of_module = {}
    for module_pk, path in ModulePage.objects.values_list("pk", "path"):
        track_pk = track_of_path.get(path[: -Page.steplen])
        if track_pk is not None:
            track_of_module[module_pk] = track_pk

    sessions = {}
    for session in TrainingSession.objects.filter(track__in=by_track).order_by("starts_on", "pk"):
        session.track = by_track[session.track_id].track  # its label names the track
        sessions[session.pk] = SessionResults(session, Figures())
        by_track[session.track_id].sessions.append(sessions[session.pk])

    # « À chaud »: per module, summed over the track's modules.
    hot = Satisfaction.objects.filter(module__in=list(track_of_module)).values("module").order_by()
    for row in hot.annotate(**_rating_aggregates("rating")):
        by_track[track_of_module[row["module"]]].figures.hot.add(
            row["n"], row["total"], row["satisfied"]
        )
    # A session's « à chaud » answers are those of its confirmed learners on its track.
    hot_by_seat = (
        Satisfaction.objects.filter(
            module__in=list(track_of_module),
            learner__seats__session__in=list(sessions),
            learner__seats__status=Seat.Status.CONFIRMED,
        )
        .values("learner__seats__session", "module")
        .order_by()
        .annotate(**_rating_aggregates("rating"))
    )
    for row in hot_by_seat:
        results_ = sessions[row["learner__seats__session"]]
        if track_of_module[row["module"]] == results_.session.track_id:
            results_.figures.hot.add(row["n"], row["total"], row["satisfied"])

    cold = (
        ColdSurvey.objects.filter(track__in=by_track)
        .values("track", "session")
        .order_by()
        .annotate(
            scheduled=Count("pk"),
            sent=Count("pk", filter=Q(sent_at__isnull=False)),
            answered=Count("pk", filter=Q(answered_at__isnull=False)),
            applied_yes=Count("pk", filter=Q(applied=True)),
            applied_answers=Count("applied"),
            **{f"rating_{k}": v for k, v in _rating_aggregates("rating").items()},
            **{f"usefulness_{k}": v for k, v in _rating_aggregates("usefulness").items()},
        )
    )
    for row in cold:
        targets = [by_track[row["track"]].figures]
        if row["session"] in sessions:
            targets.append(sessions[row["session"]].figures)
        for figures in targets:
            figures.cold_scheduled += row["scheduled"]
            figures.cold_sent += row["sent"]
            figures.cold_answered += row["answered"]
            figures.cold_applied += row["applied_yes"]
            figures.cold_applied_answers += row["applied_answers"]
            figures.cold_rating.add(row["rating_n"], row["rating_total"], row["rating_satisfied"])
            figures.cold_usefulness.add(
                row["usefulness_n"], row["usefulness_total"], row["usefulness_satisfied"]
            )

    feedback = (
        Feedback.objects.filter(track__in=by_track)
        .values("track", "session", "respondent")
        .order_by()
        .annotate(answers=Count("pk"), **_rating_aggregates("rating"))
    )
    for row in feedback:
        targets = [by_track[row["track"]].figures]
        if row["session"] in sessions:
            targets.append(sessions[row["session"]].figures)
        for figures in targets:
            if row["respondent"] == Feedback.Respondent.TRAINER:
                figures.trainer_feedback_count += row["answers"]
                figures.trainer_feedback.add(row["n"], row["total"], row["satisfied"])
            else:
                figures.funder_feedback_count += row["answers"]
                figures.funder_feedback.add(row["n"], row["total"], row["satisfied"])
    return [by_track[t.pk] for t in tracks]


# Keys are stable (CSV columns, data attributes); labels are for people.
FIGURES = [
    ("hot_answers", _("« À chaud » answers")),
    ("hot_average", _("« À chaud » average (/5)")),
    ("hot_satisfied_percent", _("« À chaud » satisfied (%)")),
    ("cold_scheduled", _("« À froid » scheduled")),
    ("cold_sent", _("« À froid » sent")),
    ("cold_answered", _("« À froid » answered")),
    ("cold_response_percent", _("« À froid » response rate (%)")),
    ("cold_average", _("« À froid » average (/5)")),
    ("cold_usefulness_average", _("« À froid » usefulness (/5)")),
    ("cold_applied_percent", _("« À froid » put into practice (%)")),
    ("trainer_feedback", _("Trainer feedback")),
    ("trainer_average", _("Trainer average (/5)")),
    ("funder_feedback", _("Funder feedback")),
    ("funder_average", _("Funder average (/5)")),
]


def figure_values(f: Figures) -> dict[str, int | float | None]:
    return {
        "hot_answers": f.hot.count,
        "hot_average": f.hot.average,
        "hot_satisfied_percent": f.hot.satisfied_percent,
        "cold_scheduled": f.cold_scheduled,
        "cold_sent": f.cold_sent,
        "cold_answered": f.cold_answered,
        "cold_response_percent": f.cold_response_percent,
        "cold_average": f.cold_rating.average,
        "cold_usefulness_average": f.cold_usefulness.average,
        "cold_applied_percent": f.cold_applied_percent,
        "trainer_feedback": f.trainer_feedback_count,
        "trainer_average": f.trainer_feedback.average,
        "funder_feedback": f.funder_feedback_count,
        "funder_average": f.funder_feedback.average,
    }


@dataclass
class FigureRow:
    key: str
    label: str
    values: list  # the whole track's, then each session's; None when there is no answer


def table(item: TrackResults) -> list[FigureRow]:
    """A track's figures as rows: one column for the track, one per session."""
    columns = [figure_values(item.figures)] + [figure_values(s.figures) for s in item.sessions]
    return [FigureRow(key, label, [c[key] for c in columns]) for key, label in FIGURES]


# --- CSV ---------------------------------------------------------------------------


def csv_columns() -> list[str]:
    # The results page's own headings, in the reader's language (docs/decisions.md,
    # « CSV exports speak their reader's language »).
    return [str(_("Track")), str(_("Session"))] + [str(label) for _key, label in FIGURES]


def _cell(value: int | float | None) -> str | int:
    if value is None:
        return ""
    # A decimal comma in French: what a French spreadsheet reads as a number.
    return number_format(value) if isinstance(value, float) else value


def csv_row(track: TrackPage, session: TrainingSession | None, f: Figures) -> list:
    values = figure_values(f)
    return [track.title, str(session) if session else ""] + [
        _cell(values[key]) for key, _label in FIGURES
    ]


def write_csv(stream: TextIO, track_results: list[TrackResults]) -> None:
    """One line per track (all sessions and none), then one per session of it."""
    writer = SpreadsheetWriter(stream, delimiter=";")
    writer.writerow(csv_columns())
    for item in track_results:
        writer.writerow(csv_row(item.track, None, item.figures))
        for session_results in item.sessions:
            writer.writerow(csv_row(item.track, session_results.session, session_results.figures))
