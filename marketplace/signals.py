"""Signals marketplace sends; evaluation connects its receivers in its own `init_app`
(marketplace never imports it).

Events are sent inside the operation's transaction, after its own changes are flushed: a
receiver's work commits or rolls back with the operation, and an exception from a receiver
propagates and undoes the whole.
"""

from __future__ import annotations

from blinker import Namespace

_signals = Namespace()

# Sent with the award as sender, `project=` and `actor=`, when an upheld challenge has voided it
# and sent the project back to review (not when the project is cancelled); receivers return nothing.
award_voided = _signals.signal("award-voided")

# Sent with the session as sender once the provider's report is stored; receivers return nothing.
session_reported = _signals.signal("session-reported")

# Sent with the session as sender once an officer accepted or disputed its report;
# receivers return nothing.
session_decided = _signals.signal("session-decided")

# Sent by the clock's pass over overdue sessions, once some were recorded as missed or accepted by
# default, with the set of their providers' ids as sender and `now=`; receivers return nothing.
sessions_overdue = _signals.signal("sessions-overdue")

# Sent by a session's page with the session as sender and `user=` (the reader); each receiver
# returns markup for a panel on the page, or None.
session_page_panels = _signals.signal("session-page-panels")

# Sent by an award notice's page with the project as sender and `award=`; each receiver returns
# markup of links to further records of the award (the review report), or None.
award_notice_links = _signals.signal("award-notice-links")
