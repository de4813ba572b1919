"""How a failure inside a UI handler reaches the reader: one line, with the trace in the log when it is a bug."""

from __future__ import annotations

import logging

from assistant.errors import AssistantError, as_user_error, one_line

log = logging.getLogger("assistant.ui.app")


def user_message(err: Exception, doing: str) -> str:
    """One line for the reader; a fault that is not a user error also goes to the log with its trace."""
    if not isinstance(err, AssistantError):
        log.exception("failed while %s", doing)
    return one_line(str(as_user_error(err)))
