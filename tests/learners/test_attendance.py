"""Attendance (émargement): signing by code or personal link, the trainer's decisions, access."""

import datetime

import pytest
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone

from courses.models.pages import Format
from learners import activity, attendance
from learners.attendance import AttendanceRefused, CellState
from learners.session_models import ActivityEvent, Attendance, HalfDay, Seat
from tests.html_checks import soup_of
from tests.learners.attendance_helpers import (
    AFTERNOON,
    DAY,
    add_half_day,
    add_half_day_open_all_day,
    at,
    make_session,
)


@pytest.fixture(autouse=True)
def fresh_cache():
    # Wrong-code counters live in the cache, keyed by user id; ids repeat across tests.
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def session(journey, karim, camille, dominique):
    return make_session(journey.track, trainers=[karim], learners=[camille, dominique])


@pytest.fixture
def morning(session):
    return add_half_day(session)


# --- Signing with the code ----------------------------------------------------------------


def test_a_learner_signs_in_with_the_code_during_the_half_day(camille, morning):
    signed = attendance.sign_in_with_code(camille, morning.code, at=at(DAY, 9, 12))

    assert (signed.half_day, signed.learner, signed.status) == (morning, camille, "present")
    assert signed.method == Attendance.Method.CODE
    assert signed.signed_at == at(DAY, 9, 12)
    assert signed.confirmed_by is None  # until the trainer confirms


def test_the_code_ignores_case_and_spaces(camille, morning):
    typed = f" {morning.code[:3].lower()} {morning.code[3:]} "

    assert attendance.sign_in_with_code(camille, typed, at=at(DAY, 10)).half_day == morning


def test_signing_twice_keeps_the_first_signature(camille, morning):
    first = attendance.sign_in_with_code(camille, morning.code, at=at(DAY, 9, 5))
    again = attendance.sign_in_with_code(camille, morning.code, at=at(DAY, 11))

    assert again.pk == first.pk
    assert again.signed_at == at(DAY, 9, 5)
    assert Attendance.objects.count() == 1


def test_the_code_works_until_the_last_minute_of_the_half_day(camille, morning):
    assert attendance.sign_in_with_code(camille, morning.code, at=at(DAY, 12, 30)).pk


@pytest.mark.parametrize(
    "when",
    [at(DAY, 8, 59), at(DAY, 12, 31), at(DAY, 14), at(DAY + datetime.timedelta(days=1), 9, 30)],
    ids=["too-early", "just-expired", "afternoon", "next-day"],
)
def test_a_code_outside_its_half_day_is_refused_and_nothing_is_recorded(camille, morning, when):
    with pytest.raises(AttendanceRefused):
        attendance.sign_in_with_code(camille, morning.code, at=when)

    assert not Attendance.objects.exists()


def test_a_wrong_code_is_refused_and_nothing_is_recorded(camille, morning):
    wrong = "ZZZZZZ" if morning.code != "ZZZZZZ" else "YYYYYY"

    with pytest.raises(AttendanceRefused):
        attendance.sign_in_with_code(camille, wrong, at=at(DAY, 10))

    assert not Attendance.objects.exists()


def test_the_code_of_another_session_is_refused(journey, camille, lea, sophie, morning):
    other = make_session(journey.track, trainers=[lea], learners=[sophie])
    other_morning = add_half_day(other)

    with pytest.raises(AttendanceRefused):
        attendance.sign_in_with_code(camille, other_morning.code, at=at(DAY, 10))

    assert not Attendance.objects.exists()


@pytest.mark.parametrize("status", [Seat.Status.WAITING, Seat.Status.CANCELLED])
def test_a_learner_without_a_confirmed_seat_is_refused(camille, session, morning, status):
    Seat.objects.filter(session=session, learner=camille).update(status=status)

    with pytest.raises(AttendanceRefused):
        attendance.sign_in_with_code(camille, morning.code, at=at(DAY, 10))

    assert not Attendance.objects.exists()


def test_a_learner_with_no_seat_at_all_is_refused(sophie, morning):
    with pytest.raises(AttendanceRefused):
        attendance.sign_in_with_code(sophie, morning.code, at=at(DAY, 10))

    assert not Attendance.objects.exists()


def test_ten_wrong_codes_in_a_row_stop_code_signing_even_with_the_right_code(
    camille, dominique, morning
):
    for _ in range(attendance.MAX_WRONG_CODES):
        with pytest.raises(AttendanceRefused):
            attendance.sign_in_with_code(camille, "WRONG1", at=at(DAY, 10))

    with pytest.raises(attendance.TooManyWrongCodes):
        attendance.sign_in_with_code(camille, morning.code, at=at(DAY, 10))
    assert not Attendance.objects.filter(learner=camille).exists()
    # The counter is the guesser's own: the rest of the room still signs.
    assert attendance.sign_in_with_code(dominique, morning.code, at=at(DAY, 10)).pk


def test_a_code_refused_for_being_early_does_not_count_as_a_guess(camille, morning):
    for _ in range(attendance.MAX_WRONG_CODES + 2):
        with pytest.raises(AttendanceRefused):
            attendance.sign_in_with_code(camille, morning.code, at=at(DAY, 8, 30))

    assert attendance.sign_in_with_code(camille, morning.code, at=at(DAY, 9)).pk


# --- Signing with the personal link ----------------------------------------------------------


def _token(session, learner) -> str:
    return Seat.objects.get(session=session, learner=learner).attendance_token


def test_the_personal_link_signs_the_half_day_open_at_that_moment(camille, session, morning):
    afternoon = add_half_day(session, period="pm")

    signed = attendance.sign_in_with_link(_token(session, camille), at=at(DAY, 14, 5))

    assert (signed.half_day, signed.learner) == (afternoon, camille)
    assert signed.method == Attendance.Method.LINK
    assert not Attendance.objects.filter(half_day=morning).exists()


def test_the_personal_link_is_refused_when_no_half_day_is_open(camille, session, morning):
    with pytest.raises(AttendanceRefused):
        attendance.sign_in_with_link(_token(session, camille), at=at(DAY, 13))

    assert not Attendance.objects.exists()


def test_the_link_of_a_cancelled_seat_no_longer_signs(camille, session, morning):
    token = _token(session, camille)
    Seat.objects.filter(attendance_token=token).update(status=Seat.Status.CANCELLED)

    with pytest.raises(Seat.DoesNotExist):
        attendance.sign_in_with_link(token, at=at(DAY, 10))


# --- The trainer decides --------------------------------------------------------------------


def test_the_trainer_confirms_a_signature_and_keeps_its_time_and_method(camille, karim, morning):
    attendance.sign_in_with_code(camille, morning.code, at=at(DAY, 9, 10))

    confirmed = attendance.record_by_trainer(
        morning, camille, Attendance.Status.PRESENT, karim, at=at(DAY, 12)
    )

    assert (confirmed.status, confirmed.method) == ("present", Attendance.Method.CODE)
    assert confirmed.signed_at == at(DAY, 9, 10)
    assert (confirmed.confirmed_by, confirmed.confirmed_at) == (karim, at(DAY, 12))


def test_the_trainer_marks_an_absence_and_the_learner_cannot_overturn_it(camille, karim, morning):
    attendance.record_by_trainer(morning, camille, Attendance.Status.ABSENT, karim, at=at(DAY, 10))

    again = attendance.sign_in_with_code(camille, morning.code, at=at(DAY, 10, 5))

    assert again.status == Attendance.Status.ABSENT
    assert (again.method, again.signed_at) == (Attendance.Method.TRAINER, None)


def test_the_trainer_cannot_record_someone_without_a_seat(sophie, karim, morning):
    with pytest.raises(AttendanceRefused):
        attendance.record_by_trainer(
            morning, sophie, Attendance.Status.PRESENT, karim, at=at(DAY, 10)
        )

    assert not Attendance.objects.exists()


def test_the_trainer_cannot_record_a_half_day_that_has_not_started(camille, karim, morning):
    with pytest.raises(AttendanceRefused):
        attendance.record_by_trainer(
            morning, camille, Attendance.Status.ABSENT, karim, at=at(DAY, 8)
        )


def test_confirm_all_confirms_every_unconfirmed_signature_of_the_half_day_only(
    camille, dominique, karim, session, morning
):
    afternoon = add_half_day(session, period="pm")
    attendance.sign_in_with_code(camille, morning.code, at=at(DAY, 9, 1))
    attendance.sign_in_with_code(dominique, morning.code, at=at(DAY, 9, 2))
    attendance.sign_in_with_code(camille, afternoon.code, at=at(DAY, 13, 40))

    assert attendance.confirm_all_signed(morning, karim, at=at(DAY, 12, 30)) == 2

    assert set(
        Attendance.objects.filter(confirmed_by=karim).values_list("half_day", flat=True)
    ) == {morning.pk}
    assert attendance.confirm_all_signed(morning, karim, at=at(DAY, 12, 31)) == 0  # none left


def test_the_sheet_says_not_signed_once_the_half_day_is_over_and_counts_hours_present(
    camille, dominique, karim, session, morning
):
    afternoon = add_half_day(session, period="pm", hours=AFTERNOON)
    attendance.sign_in_with_code(camille, morning.code, at=at(DAY, 9, 1))
    attendance.record_by_trainer(morning, camille, "present", karim, at=at(DAY, 9, 30))
    attendance.sign_in_with_link(_token(session, camille), at=at(DAY, 13, 35))

    during_afternoon = attendance.attendance_sheet(session, at=at(DAY, 14))
    evening = attendance.attendance_sheet(session, at=at(DAY, 18))

    states = {r.learner: [c.state for c in r.cells] for r in during_afternoon.rows}
    assert states == {
        camille: [CellState.PRESENT, CellState.TO_CONFIRM],
        dominique: [CellState.UNSIGNED, CellState.PENDING],
    }
    rows = {r.learner: r for r in evening.rows}
    assert [c.state for c in rows[dominique].cells] == [CellState.UNSIGNED, CellState.UNSIGNED]
    assert [c.confirmed for c in rows[camille].cells] == [True, False]
    assert rows[camille].hours_attended == 3.5  # the link's afternoon waits for the trainer
    assert rows[dominique].hours_attended == 0
    assert [column.half_day for column in evening.columns] == [morning, afternoon]

    attendance.confirm_all_signed(afternoon, karim, at=at(DAY, 17))
    rows = {r.learner: r for r in attendance.attendance_sheet(session, at=at(DAY, 18)).rows}
    assert [c.state for c in rows[camille].cells] == [CellState.PRESENT, CellState.PRESENT]
    assert rows[camille].hours_attended == 7.0  # 3h30 in the morning, 3h30 in the afternoon


def test_a_late_joiner_is_not_registered_yet_for_the_half_days_over_before_her_place(
    camille, dominique, karim, session, morning
):
    afternoon = add_half_day(session, period="pm", hours=AFTERNOON)
    # The team gives Dominique her place over lunch (learners/seat_admin.py).
    Seat.objects.filter(session=session, learner=dominique).update(confirmed_at=at(DAY, 12, 45))

    rows = {r.learner: r for r in attendance.attendance_sheet(session, at=at(DAY, 18)).rows}

    assert [c.state for c in rows[dominique].cells] == [
        CellState.NOT_REGISTERED,
        CellState.UNSIGNED,
    ]
    assert rows[dominique].cells[0].label == "pas encore inscrit·e"
    assert [c.state for c in rows[camille].cells] == [CellState.UNSIGNED, CellState.UNSIGNED]
    # Had she come that morning after all, the trainer's word is what the sheet says.
    attendance.record_by_trainer(morning, dominique, "present", karim, at=at(DAY, 13))
    rows = {r.learner: r for r in attendance.attendance_sheet(session, at=at(DAY, 18)).rows}
    assert rows[dominique].cells[0].state == CellState.PRESENT
    assert afternoon.pk == rows[dominique].cells[1].half_day.pk


def test_a_personal_link_counts_an_on_site_half_day_only_once_the_trainer_confirms(
    camille, karim, session, morning
):
    online = add_half_day(session, period="pm", online=True)
    attendance.sign_in_with_link(_token(session, camille), at=at(DAY, 9, 5))
    attendance.sign_in_with_link(_token(session, camille), at=at(DAY, 14, 5))

    # Anyone holding the link signs from anywhere: the room is the trainer's to vouch for.
    counted = Attendance.objects.counted().filter(learner=camille)
    assert [a.half_day for a in counted] == [online]
    cells = next(r for r in attendance.attendance_sheet(session, at=at(DAY, 18)).rows).cells
    assert cells[0].state == CellState.TO_CONFIRM
    assert "compté une fois confirmé" in cells[0].label
    assert cells[1].state == CellState.PRESENT

    # The evidence pack's CSV says it as the sheet does.
    from certification import evidence

    statuses = [row["statut"] for row in evidence.attendance_rows(session, [camille])]
    assert statuses == [evidence.AWAITING_CONFIRMATION, "présent"]

    attendance.record_by_trainer(morning, camille, "present", karim, at=at(DAY, 12))
    assert {a.half_day for a in counted.all()} == {morning, online}


def test_the_code_typed_in_the_room_after_the_link_counts_the_half_day_at_once(
    camille, session, morning
):
    attendance.sign_in_with_link(_token(session, camille), at=at(DAY, 9, 1))

    signed = attendance.sign_in_with_code(camille, morning.code, at=at(DAY, 9, 4))

    assert (signed.method, signed.signed_at) == (Attendance.Method.CODE, at(DAY, 9, 4))
    assert not signed.awaits_confirmation
    assert Attendance.objects.counted().filter(learner=camille).count() == 1


# --- Pages ----------------------------------------------------------------------------------


@pytest.fixture
def today(session):
    # A half-day today is one of the session's days: the session runs until today.
    session.ends_on = max(session.ends_on, timezone.localdate())
    session.save(update_fields=["ends_on"])
    return add_half_day_open_all_day(session, timezone.localdate())


def test_the_code_page_offers_a_phone_friendly_code_field(client, camille):
    client.force_login(camille)

    response = client.get(reverse("learners:attendance_sign"))

    assert response.status_code == 200
    html = response.text
    assert 'autocomplete="one-time-code"' in html
    assert 'inputmode="text"' in html
    assert 'name="code"' in html


def test_the_code_page_signs_the_learner_in_and_shows_the_result(client, camille, today):
    client.force_login(camille)

    response = client.post(reverse("learners:attendance_sign"), {"code": today.code.lower()})

    assert response.status_code == 200
    assert response.context["attendance"].half_day == today
    assert 'data-testid="attendance-result"' in response.text
    assert Attendance.objects.get(learner=camille).method == Attendance.Method.CODE


def test_the_code_page_keeps_a_wrong_code_and_says_why_on_the_field(client, camille, today):
    client.force_login(camille)

    response = client.post(reverse("learners:attendance_sign"), {"code": "NOPE42"})

    assert response.status_code == 400
    assert list(response.context["form"].errors) == ["code"]
    assert 'value="NOPE42"' in response.text
    assert 'href="#id_code"' in response.text  # the error summary leads to the field
    assert not Attendance.objects.exists()


def test_an_empty_code_is_a_field_error_not_a_guess(client, camille, today):
    client.force_login(camille)

    response = client.post(reverse("learners:attendance_sign"), {"code": "  "})

    assert response.status_code == 400
    assert "code" in response.context["form"].errors
    assert cache.get(f"attendance-wrong-codes:{camille.pk}") is None


def test_the_code_page_asks_anonymous_visitors_to_log_in(client):
    response = client.get(reverse("learners:attendance_sign"))

    assert response.status_code == 302


def test_the_code_page_stops_a_guesser(client, camille, today):
    client.force_login(camille)
    url = reverse("learners:attendance_sign")
    for _ in range(attendance.MAX_WRONG_CODES):
        assert client.post(url, {"code": "WRONG9"}).status_code == 400

    response = client.post(url, {"code": today.code})

    assert response.status_code == 400
    assert "code" in response.context["form"].errors
    assert not Attendance.objects.exists()


def test_the_personal_link_shows_who_signs_and_signs_without_login(client, camille, session, today):
    url = reverse("learners:attendance_link", args=[_token(session, camille)])

    page = client.get(url)
    signed = client.post(url)

    assert page.status_code == 200
    assert camille.full_name in page.text
    assert page.context["half_day"] == today
    assert signed.status_code == 200
    assert Attendance.objects.get(learner=camille).method == Attendance.Method.LINK
    # An on-site half-day: she is told her signature waits for the trainer.
    assert 'data-testid="attendance-to-confirm"' in signed.text
    assert "une fois votre présence confirmée" in signed.text


def test_the_personal_link_says_when_nothing_is_open(client, camille, session, morning):
    url = reverse("learners:attendance_link", args=[_token(session, camille)])

    page = client.get(url)
    refused = client.post(url)

    assert page.status_code == 200
    assert page.context["half_day"] is None
    assert 'data-testid="attendance-closed"' in page.text
    assert refused.status_code == 400
    assert not Attendance.objects.exists()


def test_an_unknown_personal_link_is_a_404(client, session, today):
    url = reverse("learners:attendance_link", args=["not-a-token"])

    assert client.get(url).status_code == 404
    assert client.post(url).status_code == 404


# --- The trainer's pages ----------------------------------------------------------------------


def _grid_url(session) -> str:
    return reverse("learners:session_attendance", args=[session.pk])


def test_the_trainer_sees_the_grid_and_the_current_code(client, karim, camille, session, today):
    attendance.sign_in_with_code(camille, today.code)
    client.force_login(karim)

    response = client.get(_grid_url(session))

    assert response.status_code == 200
    assert response.context["current"] == today
    assert response.context["current_open"] is True
    assert f'data-testid="attendance-code" translate="no">{today.code}<' in response.text
    rows = {r.learner: r for r in response.context["sheet"].rows}
    assert rows[camille].cells[0].state == CellState.PRESENT
    assert camille.full_name in response.text


@pytest.mark.parametrize(
    ("hour", "minute", "changes_in"),
    [
        (7, 0, 3600 + 30 * 60 + 1),  # long before the morning: until its code shows at 8:30
        (8, 40, 20 * 60 + 1),  # its code shown: until it opens at 9:00
        (10, 0, 2 * 3600 + 30 * 60 + 1),  # open: until it closes at 12:30
        (12, 45, 15 * 60 + 1),  # between the two: until the afternoon's code shows at 13:00
        (13, 10, 20 * 60 + 1),  # and then until the afternoon opens at 13:30
    ],
)
def test_the_projected_code_knows_when_it_changes_next(session, morning, hour, minute, changes_in):
    add_half_day(session, period=HalfDay.Period.AFTERNOON)
    moment = at(DAY, hour, minute)
    shown = attendance.current_or_next_half_day(session, moment)

    assert attendance.seconds_until_the_code_changes(shown, moment) == changes_in


def test_the_next_days_code_is_not_shown_the_evening_before(
    client, karim, session, morning, monkeypatch
):
    tomorrow = add_half_day(session, day=DAY + datetime.timedelta(days=1))
    client.force_login(karim)

    monkeypatch.setattr(timezone, "now", lambda: at(DAY, 18))
    evening = client.get(_grid_url(session), {"part": "projection"})
    monkeypatch.setattr(timezone, "now", lambda: at(tomorrow.date, 8, 35))
    next_morning = client.get(_grid_url(session), {"part": "projection"})

    assert tomorrow.code not in evening.text
    later = soup_of(evening).select_one("[data-testid=attendance-code-later]")
    assert "à partir de 08:30" in " ".join(later.get_text().split())
    assert f'data-testid="attendance-code" translate="no">{tomorrow.code}<' in next_morning.text


def test_nothing_left_to_sign_means_no_change_to_wait_for(session, morning):
    moment = at(DAY, 18)
    assert attendance.current_or_next_half_day(session, moment) is None
    assert attendance.seconds_until_the_code_changes(None, moment) is None


def test_the_trainer_page_tells_its_script_when_to_ask_for_the_code_again(
    client, karim, session, morning, monkeypatch
):
    client.force_login(karim)
    moment = at(DAY, 12, 29, 30)
    monkeypatch.setattr(timezone, "now", lambda: moment)

    response = client.get(_grid_url(session))

    assert response.context["current"] == morning
    assert 'data-code-changes-in="31"' in response.text
    assert "js/attendance-projection" in response.text
    monkeypatch.setattr(timezone, "now", lambda: at(DAY, 18))
    after = client.get(_grid_url(session)).text
    assert 'data-code-changes-in=""' in after and 'data-testid="attendance-nothing-left"' in after


def test_the_projection_alone_is_served_to_the_script_and_reads_no_waiting_message(
    client, karim, dominique, session, today
):
    client.force_login(karim)
    client.post(
        _grid_url(session),
        {"action": "record", "half_day": today.pk, "learner": dominique.pk, "status": "absent"},
    )

    part = client.get(_grid_url(session), {"part": "projection"}).text

    assert part.lstrip().startswith("<div data-attendance-projection")
    assert f'translate="no">{today.code}<' in part and "<html" not in part
    page = client.get(_grid_url(session)).text
    assert f"Émargement de {dominique.full_name} enregistré." in page


def test_the_grid_alone_is_served_to_the_script_with_new_signatures_and_no_message(
    client, karim, camille, dominique, session, today
):
    client.force_login(karim)
    client.post(
        _grid_url(session),
        {"action": "record", "half_day": today.pk, "learner": dominique.pk, "status": "absent"},
    )
    attendance.sign_in_with_code(camille, today.code)

    response = client.get(_grid_url(session), {"part": "grid"})

    part = response.text
    assert part.lstrip().startswith("<div data-attendance-grid")
    assert "<html" not in part and 'name="csrfmiddlewaretoken"' in part
    cell = soup_of(response).select_one(
        f"tr[data-learner='{camille.pk}'] td[data-half-day='{today.pk}']"
    )
    assert (cell["data-state"], cell["data-confirmed"]) == ("present", "no")
    assert soup_of(response).select_one(f"[data-testid=confirm-all-{today.pk}]") is not None
    # The waiting message is left for the next page, as with the projection.
    page = client.get(_grid_url(session)).text
    assert f"Émargement de {dominique.full_name} enregistré." in page


def test_the_trainer_marks_an_absence_from_the_grid(client, karim, dominique, session, today):
    client.force_login(karim)

    response = client.post(
        _grid_url(session),
        {"action": "record", "half_day": today.pk, "learner": dominique.pk, "status": "absent"},
    )

    assert response.status_code == 302
    recorded = Attendance.objects.get(learner=dominique, half_day=today)
    assert (recorded.status, recorded.confirmed_by) == ("absent", karim)


def test_the_trainer_confirms_all_signatures_from_the_grid(client, karim, camille, session, today):
    attendance.sign_in_with_code(camille, today.code)
    client.force_login(karim)

    response = client.post(_grid_url(session), {"action": "confirm_all", "half_day": today.pk})

    assert response.status_code == 302
    assert Attendance.objects.get(learner=camille).confirmed_by == karim


def test_the_grid_refuses_a_learner_of_another_session_and_says_so(
    client, journey, karim, lea, sophie, session, today
):
    make_session(journey.track, trainers=[lea], learners=[sophie])
    client.force_login(karim)

    response = client.post(
        _grid_url(session),
        {"action": "record", "half_day": today.pk, "learner": sophie.pk, "status": "present"},
    )

    assert response.status_code == 400
    assert "learner" in response.context["form"].errors
    assert 'class="error-summary"' in response.text
    assert not Attendance.objects.exists()


def _assert_grid_refused(client, session, today) -> None:
    """The grid, a decision posted on it and the activity CSV are all 404s."""
    assert client.get(_grid_url(session)).status_code == 404
    assert (
        client.post(_grid_url(session), {"action": "confirm_all", "half_day": today.pk}).status_code
        == 404
    )
    assert (
        client.get(reverse("learners:session_activity_csv", args=[session.pk])).status_code == 404
    )


@pytest.mark.parametrize("persona", ["lea", "camille", "sophie"])
def test_only_the_sessions_trainers_and_staff_reach_its_grid(
    client, request, persona, session, today, staff
):
    client.force_login(request.getfixturevalue(persona))

    _assert_grid_refused(client, session, today)
    client.force_login(staff)
    assert client.get(_grid_url(session)).status_code == 200


def test_the_trainers_session_list_shows_only_their_sessions(
    client, journey, karim, lea, sophie, session, staff
):
    leas = make_session(journey.track, trainers=[lea], learners=[sophie], title="Session de Léa")

    client.force_login(karim)
    mine = client.get(reverse("learners:trainer_sessions"))
    client.force_login(staff)
    everything = client.get(reverse("learners:trainer_sessions"))

    assert list(mine.context["sessions"]) == [session]
    assert mine.context["sessions"][0].confirmed_count == 2
    assert set(everything.context["sessions"]) == {session, leas}


def test_a_learner_does_not_learn_that_the_trainers_session_list_exists(client, camille):
    client.force_login(camille)

    assert client.get(reverse("learners:trainer_sessions")).status_code == 404


@pytest.mark.parametrize("learners", [3, 30])
def test_the_grid_runs_a_fixed_number_of_queries(
    client, journey, karim, learners, django_assert_max_num_queries
):
    from tests.conftest import make_user

    people = [make_user(f"learner{n}@example.org", f"Learner {n}") for n in range(learners)]
    session = make_session(journey.track, trainers=[karim], learners=people, format=Format.BLENDED)
    for day in range(3):
        add_half_day(session, DAY + datetime.timedelta(days=day))
        add_half_day(session, DAY + datetime.timedelta(days=day), period="pm")
    client.force_login(karim)

    with django_assert_max_num_queries(12):
        assert client.get(_grid_url(session)).status_code == 200


def test_the_personal_data_export_holds_attendance_and_activity(camille, morning):
    import zipfile

    from learners.exports import personal_data_archive
    from tests.learners.test_personal_data import read_csv

    attendance.sign_in_with_code(camille, morning.code, at=at(DAY, 9, 12))
    activity.record(camille.pk, ActivityEvent.Kind.LOGIN, at=at(DAY, 9, 10))

    archive = zipfile.ZipFile(personal_data_archive(camille))

    (signed,) = read_csv(archive, "attendance.csv")
    assert (signed["date"], signed["status"], signed["method"]) == ("2026-03-10", "present", "code")
    (login,) = read_csv(archive, "activity.csv")
    assert login["kind"] == "login"


# --- Staff need the attendance permission ---------------------------------------------------


def _staff_member(*codenames: str):
    """Someone of the operating team who is no superuser, with the permissions named."""
    from django.contrib.auth.models import Permission

    from tests.conftest import make_user

    member = make_user("equipe@example.org", "Équipe Sessions", is_staff=True)
    member.user_permissions.add(*Permission.objects.filter(codename__in=codenames))
    return member


def test_staff_without_the_attendance_permission_reach_no_session_they_do_not_lead(
    client, session, today, camille
):
    attendance.sign_in_with_code(camille, today.code)
    client.force_login(_staff_member())

    _assert_grid_refused(client, session, today)
    sheet = reverse("certification:attendance_sheet", args=[session.pk])
    assert client.get(sheet).status_code == 404
    listing = client.get(reverse("learners:trainer_sessions"))
    assert (list(listing.context["sessions"]), listing.context["every_session"]) == ([], False)
    assert Attendance.objects.get().confirmed_by is None


def test_staff_granted_the_attendance_permission_see_and_record_every_session(
    client, session, today, camille
):
    attendance.sign_in_with_code(camille, today.code)
    member = _staff_member("change_attendance")
    client.force_login(member)

    assert client.get(_grid_url(session)).status_code == 200
    client.post(_grid_url(session), {"action": "confirm_all", "half_day": today.pk})
    listing = client.get(reverse("learners:trainer_sessions"))
    assert (list(listing.context["sessions"]), listing.context["every_session"]) == (
        [session],
        True,
    )
    assert Attendance.objects.get().confirmed_by == member


def test_a_trainer_keeps_their_own_sessions_without_any_permission(karim, lea, session):
    assert list(attendance.sessions_run_by(karim)) == [session]
    assert list(attendance.sessions_run_by(lea)) == []


# --- Closing ------------------------------------------------------------------------------


def test_a_trainer_amends_attendance_until_two_weeks_after_the_last_day_then_it_closes(
    camille, dominique, karim, session, morning
):
    last_day = session.ends_on
    open_until = at(last_day + datetime.timedelta(days=attendance.AMEND_DAYS), 18)
    attendance.record_by_trainer(morning, camille, Attendance.Status.PRESENT, karim, at=open_until)

    too_late = open_until + datetime.timedelta(days=1)
    with pytest.raises(AttendanceRefused, match="équipe de formation"):
        attendance.record_by_trainer(morning, camille, Attendance.Status.ABSENT, karim, at=too_late)
    with pytest.raises(AttendanceRefused):
        attendance.confirm_all_signed(morning, karim, at=too_late)
    assert Attendance.objects.get(learner=camille).status == Attendance.Status.PRESENT

    # The team granted the attendance permission still amends, for the record.
    member = _staff_member("change_attendance")
    attendance.record_by_trainer(morning, camille, Attendance.Status.ABSENT, member, at=too_late)
    assert Attendance.objects.get(learner=camille).status == Attendance.Status.ABSENT


def test_a_closed_grid_offers_no_buttons_and_says_whom_to_ask(client, karim, session, morning):
    client.force_login(karim)
    page = client.get(_grid_url(session)).content.decode()  # DAY is long past
    assert 'data-testid="attendance-closed"' in page
    assert 'name="action" value="record"' not in page
    assert 'value="confirm_all"' not in page


def test_link_signatures_recorded_before_the_rule_keep_counting(camille, session, morning):
    import importlib

    from django.apps import apps

    migration = importlib.import_module("learners.migrations.0019_link_signatures_counted_before")
    old = attendance.sign_in_with_link(_token(session, camille), at=at(DAY, 9, 5))
    assert not Attendance.objects.counted().exists()

    migration.count_as_before(apps, None)

    old.refresh_from_db()
    assert (old.confirmed_at, old.confirmed_by) == (old.signed_at, None)  # nobody confirmed it
    assert list(Attendance.objects.counted()) == [old]
    cell = next(iter(attendance.attendance_sheet(session, at=at(DAY, 18)).rows)).cells[0]
    assert (cell.state, cell.confirmed) == (CellState.PRESENT, False)  # « to confirm », as before
