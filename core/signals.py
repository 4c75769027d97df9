"""Signals core sends; higher packages connect their receivers in their own `init_app`.

Receivers are module-level functions, so an app made twice in one process (tests) connects
each once. A slot on a page is a signal whose receivers return markup; `markup_for` gathers it.
"""

from __future__ import annotations

from blinker import Namespace

_signals = Namespace()

# Sent by the reports download page with the user as sender and `forms` (a refused request's
# form by job kind); each receiver returns the markup of its request form, or "".
report_request_panels = _signals.signal("report-request-panels")


def markup_for(signal, sender, **kwargs) -> list:
    """The non-empty answers of a slot's receivers, in a stable order (by receiver name)."""
    answers = sorted(signal.send(sender, **kwargs), key=lambda pair: (pair[0].__module__, pair[0].__qualname__))
    return [markup for _receiver, markup in answers if markup]
