"""SIGTERM ends a run as Ctrl-C does: it unwinds through the same cleanup, so nothing partial stays.

A signal handler raises where the program happens to be; when that is a finaliser (a weak reference's
callback, a ``__del__``), Python reports the exception and carries on. The request is therefore also
remembered, and :func:`check_stop` raises it again at the points that must not be passed, such as
writing the output.
"""

from __future__ import annotations

_requested = False


class Terminated(KeyboardInterrupt):
    """The run was asked to stop by SIGTERM."""


def request_stop(signum, frame) -> None:
    """The SIGTERM handler: remember the request and raise :class:`Terminated` here."""
    global _requested
    _requested = True
    raise Terminated()


def check_stop() -> None:
    """Raise :class:`Terminated` if SIGTERM arrived, even if the handler's exception was swallowed."""
    if _requested:
        raise Terminated()


def quiet_unraisable(hook):
    """``hook`` (a :data:`sys.unraisablehook`) but silent for :class:`Terminated`: a request a finaliser
    swallowed is remembered and acted on by :func:`check_stop`, so its traceback would only alarm."""
    def quiet(unraisable) -> None:
        if not isinstance(unraisable.exc_value, Terminated):
            hook(unraisable)
    return quiet


def reset() -> None:
    """Forget a request (a new run in the same process)."""
    global _requested
    _requested = False
