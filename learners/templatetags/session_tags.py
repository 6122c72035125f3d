"""Training sessions on the track page and the learner's dashboard.

`{% load session_tags %}` then `{% track_sessions page %}` or `{% my_sessions user %}`.
Each runs a fixed number of queries, however many sessions there are, but for one more
per session over whose attendance is still open (the documents it will bring).
"""

import datetime

from django import template
from django.db.models import Prefetch

from learners import attendance, sessions
from learners.models import User
from learners.session_models import Seat, TrainingSession

register = template.Library()


def _trainers() -> Prefetch:
    return Prefetch("trainers", queryset=User.objects.order_by("full_name", "pk"))


@register.inclusion_tag("learners/includes/track_sessions.html", takes_context=True)
def track_sessions(context, page) -> dict:
    user = context.get("user")
    rows = list(
        sessions.with_places(TrainingSession.objects.upcoming().filter(track=page))
        .prefetch_related(_trainers())
        .order_by("starts_on", "pk")
    )
    mine = {}
    if rows and user is not None and user.is_authenticated:
        mine = {
            seat.session_id: seat
            for seat in sessions.with_rank(
                Seat.objects.active().filter(learner=user, session__in=[s.pk for s in rows])
            )
        }
    for session in rows:
        session.places_left = max(session.capacity - session.confirmed_count, 0)
        session.my_seat = mine.get(session.pk)
        if session.my_seat is not None:
            session.my_seat.session = session  # its partials read the session: no query per seat
    return {
        "page": page,
        "sessions": rows,
        "request": context.get("request"),
        "user": user,
        # Trainers and the team are offered no place (sessions.is_learner).
        "user_is_learner": user is None or not user.is_authenticated or sessions.is_learner(user),
        "csrf_token": context.get("csrf_token"),
        # The inclusion's context is only this: the team's address is the page's.
        "campus": context.get("campus"),
    }


@register.inclusion_tag("learners/includes/my_sessions.html", takes_context=True)
def my_sessions(context, user) -> dict:
    seats = list(sessions.learner_seats(user))
    for seat in seats:
        seat.attendance_closes_on = attendance.closes_on(seat.session)
        seat.documents_issued_on = seat.attendance_closes_on + datetime.timedelta(days=1)
    return {
        "seats": seats,
        "request": context.get("request"),
        "csrf_token": context.get("csrf_token"),
        "campus": context.get("campus"),
    }
