"""What learners tells the rest of the platform when a learner's state changes.

Each signal is sent once per actual change, after the transaction that made it
commits: a receiver (certification's award evaluation) never sees a state that
a rollback later undoes, and never hears about a no-op. Receivers connect in
their own `AppConfig.ready()`; learners never imports them.
"""

from django.dispatch import Signal

# Keyword arguments: learner (User), competence (Competence), level (Level) —
# the learner's new derived level on that competence.
competence_changed = Signal()

# Keyword arguments: learner (User), module (ModulePage).
module_completed = Signal()

# Keyword arguments: learner (User), track (TrackPage).
track_completed = Signal()

# Keyword arguments: learner (User), attempt (Attempt) — a passed quiz whose ledger
# evidence was just written (by a task, after the submission's commit). What the
# learner reached is only complete from then on: awards that freeze the levels
# reached wait for it when a completion came from that quiz.
attempt_outcome_recorded = Signal()

# Keyword arguments: learner (User), submission (Submission) — an open answer a trainer
# just graded, validated or sent back for rework. A module's attestation waits for its
# open answers to be graded (learners.queries.evidence_pending): this is its cue.
submission_graded = Signal()

# Keyword arguments: learner (User) — a learner whose profile had no name gave one.
# Nothing is issued to a nameless learner (a certificate names its holder): what she
# earned meanwhile can be now.
learner_named = Signal()

# Keyword arguments: learner (User, anonymised), session_ids (list of int) — an account
# just erased, inside the erasure's transaction, and the training sessions whose evidence
# named it (a seat, half-days it confirmed, feedback it wrote): what was built from its
# data elsewhere (evidence packs) must forget it too.
account_erased = Signal()
