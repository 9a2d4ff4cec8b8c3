"""Keeping payloads out of the relay's logs (DESIGN.md §7, ATTACKS Z1).

The relay's own log lines name types, routes, ids and counts, never request content. The
one place that could quote content is aiohttp's report of an unparsable request: its
exception message echoes the offending bytes. :class:`PayloadFreeFilter` rewrites such a
record to carry only the exception's type.
"""

from __future__ import annotations

import logging

from aiohttp.abc import AbstractAccessLogger
from aiohttp.web import BaseRequest, StreamResponse

SERVER_LOGGERS = ("aiohttp.server", "aiohttp.web", "aiohttp.websocket")


class PayloadFreeFilter(logging.Filter):
    """Replace a record's exception (whose message may quote input) by its type name."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and record.exc_info[1] is not None:
            name = type(record.exc_info[1]).__name__
            record.msg = f"{record.getMessage()} ({name})"
            record.args = None
            record.exc_info = None
            record.exc_text = None
        return True


_FILTER = PayloadFreeFilter()


def install_payload_filter() -> None:
    """Attach the filter to aiohttp's server-side loggers (once)."""
    for name in SERVER_LOGGERS:
        logger = logging.getLogger(name)
        if _FILTER not in logger.filters:
            logger.addFilter(_FILTER)


class AccessLogger(AbstractAccessLogger):
    """One line per request: client address, request line (paths carry ids and cursors,
    never payloads), status, response size and duration. No headers: the Authorization
    header carries the token. Written directly rather than through aiohttp's format
    interpreter, which costs more per request than the relay's whole send handler."""

    def log(self, request: BaseRequest, response: StreamResponse, time: float) -> None:
        version = request.version
        self.logger.info(
            '%s "%s %s HTTP/%d.%d" %d %d %.6f',
            request.remote,
            request.method,
            request.path_qs,
            version.major,
            version.minor,
            response.status,
            response.body_length,
            time,
        )
