"""The session's listener on the Qt side: each call from the worker thread becomes a signal
that Qt queues to the windows in the Qt thread."""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal

from client.push import PushStatus


class SessionSignals(QObject):
    """Implements :class:`client.desktop.session.SessionListener`."""

    connection = Signal(object)  # PushStatus
    case = Signal(object)  # case id (bytes) or None: anything may have changed

    def connection_changed(self, status: PushStatus) -> None:
        self.connection.emit(status)

    def case_changed(self, case_id: bytes | None) -> None:
        self.case.emit(case_id)
