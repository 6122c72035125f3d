"""Two workers issuing the same award at the same moment end with one certificate."""

import threading

import pytest
from django.db import connection

from certification import services
from certification.models import Certificate
from learners.models import User
from tests.postgres import ONLY_ON_POSTGRES

pytestmark = ONLY_ON_POSTGRES


# Serialized rollback: a transactional test elsewhere may have flushed the page tree.
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_it_issues_one_certificate_when_two_workers_race(setting, camille, monkeypatch):
    both_checked = threading.Barrier(2, timeout=10)
    real_lock = User.objects.select_for_update

    def wait_then_lock(*args, **kwargs):
        # Both threads have looked for an existing certificate and found none; the
        # holder's row lock then lets one through, and the other finds the constraint.
        both_checked.wait()
        return real_lock(*args, **kwargs)

    monkeypatch.setattr(User.objects, "select_for_update", wait_then_lock)
    results, errors = [], []

    def worker():
        try:
            results.append(services.issue(camille, setting.module_award, render=False))
        except Exception as error:  # reported below, with the thread's traceback lost
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert not errors
    assert sorted(created for _, created in results) == [False, True]
    assert results[0][0].pk == results[1][0].pk
    assert Certificate.objects.filter(learner=camille, award=setting.module_award).count() == 1
