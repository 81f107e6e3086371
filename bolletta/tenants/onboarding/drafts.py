"""Drafts: a utility being onboarded keeps its values between visits to the wizard.

A step's values are stored whenever they can be read, even when a check fails, so the user finds
them again; only a step whose checks pass counts as complete. The SFTP password is hashed before it
is stored, and the draft never contains it in clear.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import msgspec
from sqlalchemy import select

from bolletta.platform import clock
from bolletta.platform.db.database import Database
from bolletta.platform.db.models.platform import PlatformAuditEntry, TenantDraft
from bolletta.platform.errors import NotFound
from bolletta.platform.i18n.message import T_, Text
from bolletta.platform.passwords import hash_password
from bolletta.tenants.accounts import MIN_PASSWORD_LENGTH
from bolletta.tenants.images import image_type
from bolletta.tenants.onboarding import checks, steps


@dataclass
class Draft:
    """A draft as the wizard shows it: each step's values and which steps are complete."""

    id: int
    answers: dict[str, msgspec.Struct]
    completed: list[str]
    activated_slug: str | None

    @property
    def missing(self) -> list[str]:
        """Steps still to complete, in the wizard's order."""
        return [step for step in steps.STEPS if step not in self.completed]


@dataclass
class StepResult:
    """The outcome of saving a step: the problems by field, empty when the step is complete."""

    problems: dict[str, Text] = field(default_factory=dict)

    @property
    def complete(self) -> bool:
        """True when every check of the step passed."""
        return not self.problems


def start_draft(db: Database, actor: str) -> int:
    """Open an empty draft and return its id."""
    now = clock.now()
    with db.platform_session() as session:
        draft = TenantDraft(answers={}, completed=[], created_by=actor, created_at=now, updated_at=now)
        session.add(draft)
        session.flush()
        session.add(PlatformAuditEntry(at=now, actor=actor, action="onboarding.draft_started",
                                       target=f"draft:{draft.id}", detail={}))
        session.commit()
        return draft.id


def load_draft(db: Database, draft_id: int) -> Draft:
    """Return the draft with every step's values (defaults for steps not yet saved).

    Raises:
        NotFound: there is no such draft.
    """
    with db.platform_session() as session:
        row = session.get(TenantDraft, draft_id)
        if row is None:
            raise NotFound(f"Onboarding draft #{draft_id} not found.")
        answers = {name: msgspec.convert(row.answers.get(name, {}), struct) for name, struct in steps.STEPS.items()}
        return Draft(id=row.id, answers=answers, completed=list(row.completed), activated_slug=row.activated_slug)


def open_drafts(db: Database) -> list[tuple[int, str, str]]:
    """List the drafts not yet activated as (id, slug or "", who started it), newest first."""
    with db.platform_session() as session:
        rows = session.execute(
            select(TenantDraft.id, TenantDraft.answers, TenantDraft.created_by)
            .where(TenantDraft.activated_slug.is_(None)).order_by(TenantDraft.id.desc())
        )
        return [(row.id, str(row.answers.get("company", {}).get("slug", "")), row.created_by) for row in rows]


def save_step(db: Database, draft_id: int, step: str, answers: dict[str, Any], actor: str,
              extra_problems: dict[str, Text] | None = None) -> StepResult:
    """Store ``answers`` for ``step`` of the draft and return the problems its checks found.

    ``extra_problems`` are problems found by the caller (a provider that rejected the credentials);
    they keep the step incomplete like the step's own checks.

    For the ``flow`` step, ``answers["sftp_password"]`` (optional) is hashed into
    ``sftp_password_hash``; leaving it empty keeps the hash already stored.

    Raises:
        NotFound: there is no such draft, or it is already activated.
        KeyError: ``step`` is not a wizard step.
    """
    if step not in steps.STEPS:
        raise KeyError(f"{step!r} is not a wizard step; the steps are {', '.join(steps.STEPS)}")
    answers = dict(answers)
    password_problem = None
    if step == "flow":
        password_problem = _take_password(db, draft_id, answers)
    converted, unreadable = _convert_readable(step, answers)
    if converted is None:
        return StepResult(unreadable)

    problems = checks.step_problems(step, converted, db, draft_id) | unreadable
    if password_problem is not None:
        problems["sftp_password"] = password_problem
    problems |= extra_problems or {}
    with db.platform_session() as session:
        row = session.get(TenantDraft, draft_id, with_for_update=True)
        if row is None or row.activated_slug is not None:
            raise NotFound(f"Onboarding draft #{draft_id} not found or already activated.")
        stored = msgspec.to_builtins(converted)
        uploaded = steps.UPLOADED_FIELDS.get(step)
        if uploaded is not None and uploaded not in answers:
            stored[uploaded] = row.answers.get(step, {}).get(uploaded)
        row.answers = {**row.answers, step: stored}
        done = [name for name in row.completed if name != step]
        row.completed = [*done, step] if not problems else done
        row.updated_at = clock.now()
        session.add(PlatformAuditEntry(
            at=row.updated_at, actor=actor, action="onboarding.step_saved", target=f"draft:{draft_id}",
            detail={"step": step, "complete": not problems, "fields": sorted(answers)},
        ))
        session.commit()
    return StepResult(problems)


EXPECTED_FORMS = {"int": T_("a whole number such as 15"), "bool": T_("yes or no")}
"""The form a value of each msgspec type must take, as a problem names it."""


def _convert_readable(step: str, answers: dict[str, Any]) -> tuple[msgspec.Struct | None, dict[str, Text]]:
    """Convert ``answers``, leaving out each field that cannot be read, so the other fields are still checked.

    Returns the step's struct (``None`` when even the remaining fields cannot be read) and a problem per
    field left out, naming the value and the form it must take. A field left out gets its default.
    """
    unreadable: dict[str, Text] = {}
    while True:
        try:
            return steps.convert_step(step, answers), unreadable
        except steps.UnreadableAnswer as exc:
            if not exc.field or exc.field not in answers:
                unreadable[exc.field or step] = T_("This value cannot be read; check its format.")
                return None, unreadable
            value = answers.pop(exc.field)
            expected = next((form for name, form in EXPECTED_FORMS.items() if f"Expected `{name}`" in str(exc)),
                            T_("the form its label shows"))
            unreadable[exc.field] = T_("{value} cannot be read here: write {expected}.", value=str(value)[:80],
                                       expected=expected)


def store_image(db: Database, draft_id: int, step: str, data: bytes, actor: str, language: str = "it") -> Text | None:
    """Keep an uploaded image as the image of ``step`` (see :data:`steps.UPLOADED_FIELDS`).

    Returns the problem that stops the image from being kept, or ``None`` once it is stored; sizes in
    it are formatted for ``language``. Empty ``data`` removes the stored image.

    Raises:
        NotFound: there is no such draft, or it is already activated.
    """
    field_name = steps.UPLOADED_FIELDS[step]
    image = None
    if data:
        content_type, problem = image_type(data, language)
        if problem is not None:
            return problem
        image = {"content_type": content_type, "data": msgspec.to_builtins(data)}
    with db.platform_session() as session:
        row = session.get(TenantDraft, draft_id, with_for_update=True)
        if row is None or row.activated_slug is not None:
            raise NotFound(f"Onboarding draft #{draft_id} not found or already activated.")
        row.answers = {**row.answers, step: {**row.answers.get(step, {}), field_name: image}}
        row.updated_at = clock.now()
        session.add(PlatformAuditEntry(
            at=row.updated_at, actor=actor, action="onboarding.image_saved", target=f"draft:{draft_id}",
            detail={"step": step, "field": field_name, "bytes": len(data)},
        ))
        session.commit()
    return None


def _take_password(db: Database, draft_id: int, answers: dict[str, Any]) -> Text | None:
    """Replace a clear SFTP password in ``answers`` by its hash; keep the stored hash when it is empty."""
    password = str(answers.pop("sftp_password", "") or "")
    answers.pop("sftp_password_hash", None)
    if password:
        if len(password) < MIN_PASSWORD_LENGTH:
            return T_("The SFTP password is too short: use at least {limit} characters.", limit=MIN_PASSWORD_LENGTH)
        answers["sftp_password_hash"] = hash_password(password)
        return None
    with db.platform_session() as session:
        row = session.get(TenantDraft, draft_id)
        stored = (row.answers.get("flow", {}) if row is not None else {}).get("sftp_password_hash", "")
    if stored:
        answers["sftp_password_hash"] = stored
    return None


def discard_draft(db: Database, draft_id: int, actor: str) -> None:
    """Delete a draft that was not activated; its answers are gone."""
    with db.platform_session() as session:
        row = session.get(TenantDraft, draft_id)
        if row is None or row.activated_slug is not None:
            raise NotFound(f"Onboarding draft #{draft_id} not found or already activated.")
        session.delete(row)
        session.add(PlatformAuditEntry(at=clock.now(), actor=actor, action="onboarding.draft_discarded",
                                       target=f"draft:{draft_id}", detail={}))
        session.commit()
