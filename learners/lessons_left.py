"""Whether a learner has lessons left in a module, in one hand-written statement.

Submitting a quiz and marking a lesson done both ask it, under the learner's row
lock. Built with the ORM (live children of the module, less those a view
restriction keeps from her, less those done) the statement cost about 1.5 ms of
CPU to compile against 0.05 ms to run: most of a quiz submission's own work.

Which lessons count, as before: the module's live lessons, less those behind a
restriction other than « signed in » — a lesson for some groups counts for their
members only, one behind a password for nobody (who unlocked it is known to a
browser session, not here). Lessons have no children, so a restriction that
hides one is on the lesson itself.
"""

from dataclasses import dataclass

from django.db import connection

from courses.models import ModulePage
from learners.models import User


@dataclass(frozen=True)
class LessonsLeft:
    any_open: bool  # the module has a lesson open to her at all
    any_to_do: bool  # one of them is not done yet


def lessons_left(learner: User, module: ModulePage) -> LessonsLeft:
    # Tree paths hold digits and capital letters only: nothing to escape in LIKE.
    prefix = module.path + "%"
    with connection.cursor() as cursor:
        cursor.execute(
            _STATEMENT,
            [prefix, module.depth + 1, learner.pk, learner.pk],
        )
        any_open, any_to_do = cursor.fetchone()
    return LessonsLeft(any_open=bool(any_open), any_to_do=bool(any_to_do))


# The path, depth and learner are parameters. Tables and restriction types are
# spelled as Wagtail and our models store them (PageViewRestriction.LOGIN, .GROUPS).
_STATEMENT = """
WITH open_lessons AS (
    SELECT p.id FROM wagtailcore_page p
    JOIN courses_lessonpage l ON l.page_ptr_id = p.id
    WHERE p.live AND p.path LIKE %s AND p.depth = %s
    AND NOT EXISTS (
        SELECT 1 FROM wagtailcore_pageviewrestriction r
        WHERE r.page_id = p.id
        AND r.restriction_type <> 'login'
        AND NOT (
            r.restriction_type = 'groups'
            AND EXISTS (
                SELECT 1 FROM wagtailcore_pageviewrestriction_groups rg
                JOIN learners_user_groups m ON m.group_id = rg.group_id
                WHERE rg.pageviewrestriction_id = r.id AND m.user_id = %s
            )
        )
    )
)
SELECT
    EXISTS (SELECT 1 FROM open_lessons),
    EXISTS (
        SELECT 1 FROM open_lessons o WHERE NOT EXISTS (
            SELECT 1 FROM learners_lessonprogress d
            WHERE d.learner_id = %s AND d.lesson_id = o.id
        )
    )
"""
