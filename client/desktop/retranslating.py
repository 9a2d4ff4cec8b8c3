"""Widgets whose texts follow the language: Qt sends every widget a ``LanguageChange``
event when a translator is installed or removed, and each sets its texts again."""

from __future__ import annotations

from PySide6.QtCore import QEvent


class Retranslating:
    """Mix in before the Qt class (``class Page(Retranslating, QWidget)``) and implement
    :meth:`retranslate`; call it once at the end of ``__init__`` as well."""

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802 - Qt's name
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate()
        super().changeEvent(event)  # type: ignore[misc]

    def retranslate(self) -> None:
        """Set every text of the widget in the current language."""
