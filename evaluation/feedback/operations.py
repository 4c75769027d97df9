"""Residents' ratings and complaints about sessions; providers' replies; officers' reviews.

A resident rates a session once (the database enforces it) and may change the rating while the
window is open: from the session's planned start until the set number of days after it. A rating
that makes more ratings than the reported attendance, or that comes in a burst from one address,
is flagged and kept out of the scores until an officer of the venue's area reviews it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from decimal import ROUND_HALF_UP, Decimal

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from core import audit, settings
from core.accounts.models import Role, User
from core.db import db, lock_row, utcnow
from core.errors import Forbidden, Invalid, Refused
from core.i18n import fmt_datetime
from core.notifications import notify
from core.periods import last_months, local_month, month_start
from evaluation.feedback.models import Complaint, ComplaintStatus, FlagReason, Rating, RatingStatus
from evaluation.performance import operations as performance
from marketplace.sessions import operations as session_ops
from marketplace.sessions.models import ServiceSession, SessionState

WINDOW_DAYS = settings.define("ratings.window_days", 7,
                              _l("Residents may rate a session until this many days after it"), int, 1, 60)
BURST_MINUTES = settings.define("ratings.burst_minutes", 5,
                                _l("Ratings from one address within this many minutes form a burst"), int, 1, 120)
BURST_COUNT = settings.define("ratings.burst_count", 5,
                              _l("This many ratings from one address within the burst minutes are flagged"),
                              int, 2, 100)
COMPLAINT_DAYS = settings.define("complaints.window_days", 30,
                                 _l("Residents may complain about a session until this many days after it"),
                                 int, 1, 365)
SETTINGS = (WINDOW_DAYS, BURST_MINUTES, BURST_COUNT, COMPLAINT_DAYS)
COMMENT_MAX = 500
REPLY_MAX = 1000
DIMENSIONS = ("content", "organisation", "venue")
DIMENSION_LABELS = {
    "content": _l("Content"),
    "organisation": _l("Organisation"),
    "venue": _l("Venue and experience"),
}


# --- windows and reading ---------------------------------------------------------------------

def window(session: ServiceSession) -> tuple[dt.datetime, dt.datetime]:
    return session.scheduled_at, session.scheduled_at + dt.timedelta(days=settings.get(WINDOW_DAYS.key))


def window_open(session: ServiceSession, now: dt.datetime | None = None) -> bool:
    start, end = window(session)
    return start <= (now or utcnow()) <= end and session.state != SessionState.MISSED


def own_rating(session: ServiceSession, user) -> Rating | None:
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    return db.session.scalar(select(Rating).where(Rating.session_id == session.id, Rating.resident_id == user.id))


def address_hash(address: str | None) -> str:
    """A keyed hash of the client address: bursts can be seen, the address cannot be read back."""
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, (address or "").encode(), hashlib.sha256).hexdigest()


def _stars(raw, name: str) -> int:
    if isinstance(raw, bool):
        raise Invalid(_l("Give 1 to 5 stars."), name)
    try:
        value = int(raw)
    except (TypeError, ValueError):
        raise Invalid(_l("Give 1 to 5 stars."), name) from None
    if (not isinstance(raw, str) and value != raw) or not 1 <= value <= 5:
        raise Invalid(_l("Give 1 to 5 stars."), name)
    return value


def _refuse_unless_ratable(session: ServiceSession, now: dt.datetime, action: str):
    start, end = window(session)
    if session.state == SessionState.MISSED:
        raise Refused(_l("This session was not delivered, so it cannot be rated."), audit_action=action, obj=session)
    if now < start:
        raise Refused(_l("Ratings open when the session begins (%(at)s).", at=fmt_datetime(start)),
                      audit_action=action, obj=session)
    if now > end:
        raise Refused(_l("Ratings for this session closed at %(at)s.", at=fmt_datetime(end)), audit_action=action,
                      obj=session)


# --- rating ----------------------------------------------------------------------------------

def attendance_code_matches(session: ServiceSession, raw) -> bool:
    """Whether the code typed is the session's attendance code (spaces allowed, compared in constant time)."""
    typed = "".join(str(raw or "").split())
    return bool(typed) and hmac.compare_digest(typed.encode(), (session.attendance_code or "").encode())


def rate(session: ServiceSession, resident: User, stars: dict, comment: str = "", address: str | None = None,
         now: dt.datetime | None = None, attendance_code: str | None = None) -> tuple[Rating, bool]:
    """Create the resident's rating, or change it while the window is open. Returns (rating, created).

    A first rating needs the session's attendance code (shown at the event, never on the poster):
    that is what proves the resident was there. Changing one's rating later does not ask again."""
    session = lock_row(ServiceSession, session.id)  # raters of one session queue here
    if session is None:
        raise Refused(_l("The session no longer exists."))
    now = now or utcnow()
    if resident is None or not resident.has_role(Role.RESIDENT):
        raise Forbidden(_l("Only residents rate sessions."), audit_action="rating.submit", obj=session)
    _refuse_unless_ratable(session, now, "rating.submit")
    values = {d: _stars((stars or {}).get(d), d) for d in DIMENSIONS}
    comment = (comment or "").strip()
    if len(comment) > COMMENT_MAX:
        raise Invalid(_l("A comment has at most %(n)d characters.", n=COMMENT_MAX), "comment")
    rating = own_rating(session, resident)
    created = rating is None
    # Without the code the resident has not shown they were there: not allowed (403), whatever its form.
    if created and not attendance_code_matches(session, attendance_code):
        if not "".join(str(attendance_code or "").split()):
            raise Forbidden(_l("Enter the attendance code shown at the event."), "attendance_code",
                            code="attendance_code_missing")
        raise Forbidden(_l("This is not the attendance code of this session. Ask the organisers at the event."),
                        "attendance_code", code="attendance_code_wrong", audit_action="rating.attendance_code",
                        obj=session)
    if created:
        rating = Rating(session_id=session.id, provider_id=session.provider_id, item_id=session.item_id,
                        resident_id=resident.id, comment=comment, address_hash=address_hash(address),
                        created_at=now, updated_at=now, status=RatingStatus.COUNTED, **values)
        try:
            with db.session.begin_nested():
                db.session.add(rating)
                db.session.flush()
        except IntegrityError:
            # Another request of this resident won the race (the unique constraint is the backstop).
            raise Refused(_l("You have already rated this session; change your rating instead."),
                          audit_action="rating.submit", obj=session) from None
        others = _flag_new(rating, session, now)
        audit.record("rating.create", rating, actor=resident, session=session.id, status=rating.status,
                     **values)
    else:
        before = {d: getattr(rating, d) for d in DIMENSIONS} | {"comment_length": len(rating.comment)}
        for d, v in values.items():
            setattr(rating, d, v)
        if comment != rating.comment:
            rating.comment = comment
            rating.comment_hidden_at, rating.comment_hidden_by_id, rating.hidden_reason = None, None, ""
        rating.updated_at = now
        db.session.flush()
        audit.record("rating.edit", rating, actor=resident, session=session.id, before=before, after=values)
        others = set()
    # A burst flags the address's earlier ratings, perhaps of other providers: their scores move too.
    changed = others | {(session.provider_id, session.item_id)}
    performance.update_providers({p for p, _i in changed}, "rating", now, item_ids={i for _p, i in changed})
    return rating, created


def _flag(rating: Rating, reason: FlagReason) -> bool:
    if rating.status == RatingStatus.COUNTED:
        rating.status, rating.flag_reason = RatingStatus.FLAGGED, reason
        return True
    return False


def _flag_new(rating: Rating, session: ServiceSession, now: dt.datetime) -> set[tuple[int, int]]:
    """Flag a new rating, and the address's recent ones in a burst; returns (provider, item) of
    every rating that stopped counting."""
    changed = set()
    since = now - dt.timedelta(minutes=settings.get(BURST_MINUTES.key))
    burst = list(db.session.scalars(select(Rating).where(
        Rating.address_hash == rating.address_hash, Rating.created_at >= since, Rating.created_at <= now,
        Rating.status != RatingStatus.REJECTED)))
    if len(burst) >= settings.get(BURST_COUNT.key):
        changed |= {(r.provider_id, r.item_id) for r in burst if _flag(r, FlagReason.BURST)}
    if session.attendance is not None and _live_count(session) > session.attendance:
        _flag(rating, FlagReason.OVER_ATTENDANCE)
    db.session.flush()
    return changed


def _live_count(session: ServiceSession) -> int:
    return db.session.scalar(select(func.count()).select_from(Rating).where(
        Rating.session_id == session.id, Rating.status != RatingStatus.REJECTED)) or 0


def flag_over_attendance(session: ServiceSession) -> int:
    """After a report: ratings beyond the reported attendance (the latest ones) are flagged."""
    if session.attendance is None:
        return 0
    ratings = list(db.session.scalars(select(Rating).where(
        Rating.session_id == session.id, Rating.status != RatingStatus.REJECTED)
        .order_by(Rating.created_at, Rating.id)))
    excess = ratings[session.attendance:]
    for r in excess:
        _flag(r, FlagReason.OVER_ATTENDANCE)
    db.session.flush()
    if excess:
        _rescore(session, utcnow())
    return len(excess)


def _rescore(session: ServiceSession, now: dt.datetime):
    performance.update_provider(session.provider_id, "rating", now, item_ids=[session.item_id])


# --- the officer's review of flagged ratings and comments ------------------------------------

def _officer_for(rating: Rating, actor: User, action: str) -> ServiceSession:
    session = rating.session
    if not session_ops.may_decide(actor, session):
        raise Forbidden(_l("This session's venue lies outside your jurisdiction."), audit_action=action, obj=rating)
    return session


def review_flagged(rating: Rating, genuine: bool, note: str, actor: User,
                   now: dt.datetime | None = None) -> Rating:
    """A flagged rating is counted after all, or rejected for good."""
    rating = lock_row(Rating, rating.id)
    now = now or utcnow()
    session = _officer_for(rating, actor, "rating.review")
    if rating.status != RatingStatus.FLAGGED:
        raise Refused(_l("Only a flagged rating waits for review."), audit_action="rating.review", obj=rating)
    note = (note or "").strip()
    if not genuine and not note:
        raise Invalid(_l("Give the reason the rating is rejected."), "note")
    if len(note) > 2000:
        raise Invalid(_l("At most %(n)d characters.", n=2000), "note")
    rating.status = RatingStatus.COUNTED if genuine else RatingStatus.REJECTED
    rating.reviewed_at, rating.reviewed_by_id, rating.review_note = now, actor.id, note
    db.session.flush()
    audit.record("rating.review", rating, actor=actor, outcome=rating.status, flag=rating.flag_reason, note=note)
    _rescore(session, now)
    return rating


def hide_comment(rating: Rating, reason: str, actor: User, now: dt.datetime | None = None) -> Rating:
    """Hide an abusive comment's text from everyone (the stars still count)."""
    rating = lock_row(Rating, rating.id)
    _officer_for(rating, actor, "rating.hide")
    reason = (reason or "").strip()
    if not reason:
        raise Invalid(_l("Give the reason the comment is hidden."), "reason")
    if len(reason) > 500:
        raise Invalid(_l("At most %(n)d characters.", n=500), "reason")
    if not rating.comment:
        raise Refused(_l("This rating has no comment to hide."), audit_action="rating.hide", obj=rating)
    if rating.comment_hidden_at is not None:
        raise Refused(_l("This comment is already hidden."), audit_action="rating.hide", obj=rating)
    rating.comment_hidden_at, rating.comment_hidden_by_id, rating.hidden_reason = now or utcnow(), actor.id, reason
    db.session.flush()
    audit.record("rating.hide", rating, actor=actor, reason=reason,
                 comment_sha256=hashlib.sha256(rating.comment.encode()).hexdigest())
    return rating


def reply(rating: Rating, text: str, actor: User, now: dt.datetime | None = None) -> Rating:
    """The provider's public answer to a comment (may be rewritten)."""
    rating = lock_row(Rating, rating.id)
    if not session_ops.is_own(actor, rating.session):
        raise Forbidden(_l("Only the provider that delivered the session may answer."), audit_action="rating.reply",
                        obj=rating)
    text = (text or "").strip()
    if not text:
        raise Invalid(_l("Write an answer."), "reply")
    if len(text) > REPLY_MAX:
        raise Invalid(_l("An answer has at most %(n)d characters.", n=REPLY_MAX), "reply")
    if not rating.comment or rating.comment_hidden_at is not None:
        raise Refused(_l("There is no visible comment to answer."), audit_action="rating.reply", obj=rating)
    rating.reply, rating.replied_at = text, now or utcnow()
    db.session.flush()
    audit.record("rating.reply", rating, actor=actor, length=len(text))
    return rating


# --- complaints ------------------------------------------------------------------------------

def lives_where_held(session: ServiceSession, resident: User) -> bool:
    """Whether the resident lives in the area of the session's venue: its community, or for a venue
    of a town (or of the district) a community within it."""
    area_id, node = session.venue.area_id, resident.community
    while node is not None:
        if node.id == area_id:
            return True
        node = node.parent
    return False


def may_complain(session: ServiceSession, resident: User) -> bool:
    """A complaint about a session comes from a resident who rated it or who lives where it is held."""
    return own_rating(session, resident) is not None or lives_where_held(session, resident)


def complain(session: ServiceSession, resident: User, text: str, now: dt.datetime | None = None) -> Complaint:
    session = lock_row(ServiceSession, session.id)
    now = now or utcnow()
    if resident is None or not resident.has_role(Role.RESIDENT):
        raise Forbidden(_l("Only residents lodge complaints about sessions."), audit_action="complaint.lodge",
                        obj=session)
    if not may_complain(session, resident):
        raise Forbidden(_l("Only residents who rated this session, or who live in the community where it is "
                           "held, may complain about it."), audit_action="complaint.lodge", obj=session)
    if now < session.scheduled_at:
        raise Refused(_l("A complaint can be made once the session was due to begin."),
                      audit_action="complaint.lodge", obj=session)
    end = session.scheduled_at + dt.timedelta(days=settings.get(COMPLAINT_DAYS.key))
    if now > end:
        raise Refused(_l("Complaints about this session closed at %(at)s.", at=fmt_datetime(end)),
                      audit_action="complaint.lodge", obj=session)
    text = (text or "").strip()
    if not text:
        raise Invalid(_l("Describe what went wrong."), "text")
    if len(text) > 2000:
        raise Invalid(_l("At most %(n)d characters.", n=2000), "text")
    pending = db.session.scalar(select(Complaint.id).where(
        Complaint.session_id == session.id, Complaint.resident_id == resident.id,
        Complaint.status == ComplaintStatus.PENDING))
    if pending is not None:
        raise Refused(_l("Your earlier complaint about this session is still waiting for a decision."),
                      audit_action="complaint.lodge", obj=session)
    complaint = Complaint(session_id=session.id, provider_id=session.provider_id, resident_id=resident.id,
                          text=text, created_at=now)
    db.session.add(complaint)
    db.session.flush()
    audit.record("complaint.lodge", complaint, actor=resident, session=session.id)
    return complaint


def decide_complaint(complaint: Complaint, uphold: bool, reason: str, actor: User,
                     now: dt.datetime | None = None) -> Complaint:
    complaint = lock_row(Complaint, complaint.id)
    now = now or utcnow()
    session = complaint.session
    if not session_ops.may_decide(actor, session):
        raise Forbidden(_l("This session's venue lies outside your jurisdiction."), audit_action="complaint.decide",
                        obj=complaint)
    if complaint.status != ComplaintStatus.PENDING:
        raise Refused(_l("This complaint has already been decided."), audit_action="complaint.decide",
                      obj=complaint)
    reason = (reason or "").strip()
    if not reason:
        raise Invalid(_l("Give the reason for the decision."), "reason")
    if len(reason) > 2000:
        raise Invalid(_l("At most %(n)d characters.", n=2000), "reason")
    complaint.status = ComplaintStatus.UPHELD if uphold else ComplaintStatus.DISMISSED
    complaint.reason, complaint.decided_at, complaint.decided_by_id = reason, now, actor.id
    db.session.flush()
    audit.record("complaint.decide", complaint, actor=actor, outcome=complaint.status, reason=reason)
    notify(complaint.resident_id, _l("Your complaint was %(outcome)s", outcome=complaint.status.label), reason,
           f"/rate/{session.id}")
    if uphold:
        notify(session.provider.user_id, _l("A complaint about your session was upheld"), reason,
               session_ops.session_link(session))
        performance.update_provider(session.provider_id, "complaint", now)
    return complaint


# --- receivers of marketplace's signals (it never imports evaluation) ---------------------------

def on_session_reported(session: ServiceSession):
    """Re-check the session's rating flags against the reported attendance; rescore the provider."""
    flag_over_attendance(session)
    performance.update_provider(session.provider_id, "report", session.reported_at)


def on_session_decided(session: ServiceSession):
    """The officer's acceptance or dispute counts in the provider's score."""
    performance.update_provider(session.provider_id, "acceptance", session.decided_at)


def on_sessions_overdue(provider_ids, now: dt.datetime):
    """Sessions recorded as missed or accepted by default: each provider concerned is rescored."""
    performance.update_providers(provider_ids, "overdue", now)


def monthly_satisfaction(item_id: int, now: dt.datetime, months: int = 12) -> list[tuple[str, Decimal | None, int]]:
    """(YYYY-MM, mean stars over the three dimensions, counted ratings) for an item's last
    `months` local months, oldest first; a month without ratings has no mean."""
    keys = last_months(now, months)
    month = local_month(Rating.created_at)
    rows = db.session.execute(
        select(month, func.avg((Rating.content + Rating.organisation + Rating.venue) / 3.0), func.count())
        .where(Rating.item_id == item_id, Rating.status == RatingStatus.COUNTED,
               Rating.created_at >= month_start(keys[0]), Rating.created_at <= now)
        .group_by(month)).all()
    found = {k: (Decimal(str(avg)).quantize(Decimal("0.01"), ROUND_HALF_UP), n) for k, avg, n in rows}
    return [(k, *found.get(k, (None, 0))) for k in keys]
