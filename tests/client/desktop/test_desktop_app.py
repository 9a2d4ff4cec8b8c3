"""``casecircle desktop`` as a command: it opens the window on the profile named (the
enrolment page for a new directory) in the language asked for, and ends when it closes."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

from client.cli import main
from client.desktop.window import DesktopWindow


def test_the_command_opens_the_window_and_returns_when_it_closes(
    qapp, tmp_path: Path, monkeypatch
) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("HOME", str(tmp_path))
    seen: list[tuple[str, str]] = []

    def look_and_close() -> None:
        for widget in QApplication.topLevelWidgets():
            if isinstance(widget, DesktopWindow) and widget.isVisible():
                page = widget.stack.currentWidget()
                seen.append((type(page).__name__, widget.enrol_page.send.text()))
                widget.close()

    QTimer.singleShot(300, look_and_close)
    code = main(["desktop", "--profile", str(tmp_path / "new"), "--language", "en"])
    assert code == 0
    assert seen == [("EnrolPage", "Ask to join")]
    assert not (tmp_path / "new").exists()
