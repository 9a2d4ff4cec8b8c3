"""A case's thread: its notices on top, then every note with its author as the transparency
log certifies them (name, organisation, role), when it was written, whether its signature
holds and its author is still trusted, and its attachments with a save button and a
progress bar.

Every text here came from another device: it is shown as plain text only (a note cannot
turn into a link, an image or markup).
"""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer, Signal, SignalInstance
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from client.desktop.case_views import CaseThread, NoteRow, NoteState, Notice
from client.desktop.messages import note_state_text, notice_text, size_text, when_text
from client.desktop.plain_text import heading_label, plain_label
from client.desktop.retranslating import Retranslating

STATE_COLOURS = {
    NoteState.SENDING: "#6b6b6b",
    NoteState.SIGNED: "#1b5e20",
    NoteState.KEY_VERIFIED: "#0d47a1",
    NoteState.AUTHOR_REVOKED: "#b00020",
}


class AttachmentLine(QWidget):
    """One file of a note: its name and size, a save button and the download's progress."""

    def __init__(self, note: NoteRow, index: int, on_save: SignalInstance) -> None:
        super().__init__()
        attachment = note.attachments[index]
        self.name = plain_label(attachment.name)
        self.size_label = plain_label(size_text(attachment.padded_size))
        self.save = QPushButton()
        self.save.setEnabled(note.seq is not None)
        self.save.clicked.connect(lambda: on_save.emit(note.key, index))
        self.progress = QProgressBar()
        self.progress.setMaximumWidth(160)
        self.progress.hide()
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.name, 1)
        layout.addWidget(self.size_label)
        layout.addWidget(self.progress)
        layout.addWidget(self.save)

    def retranslate(self) -> None:
        self.save.setText(self.tr("Save…"))

    def show_progress(self, done: int, total: int) -> None:
        self.progress.show()
        self.progress.setRange(0, max(total, 1))
        self.progress.setValue(done)


class NoteCard(QFrame):
    """One note."""

    def __init__(self, note: NoteRow, on_save: SignalInstance) -> None:
        super().__init__()
        self.note = note
        self.setObjectName("note")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        background = "#eef5ff" if note.own else "#ffffff"
        self.setStyleSheet(f"#note {{ background: {background}; border-radius: 6px; }}")
        self.author = plain_label()
        font = self.author.font()
        font.setBold(True)
        self.author.setFont(font)
        self.state = plain_label()
        self.state.setStyleSheet(f"color: {STATE_COLOURS[note.state]};")
        self.text = plain_label(note.text)
        self.text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.attachments = [AttachmentLine(note, i, on_save) for i in range(len(note.attachments))]
        header = QHBoxLayout()
        header.addWidget(self.author, 1)
        header.addWidget(self.state)
        layout = QVBoxLayout(self)
        layout.addLayout(header)
        layout.addWidget(self.text)
        for line in self.attachments:
            layout.addWidget(line)
        self.retranslate()

    def retranslate(self) -> None:
        note = self.note
        who = f"{note.author_name} ({note.organisation}), {note.role}"
        self.author.setText(f"{who} · {when_text(note.written_at)}")
        self.state.setText(note_state_text(note.state))
        for line in self.attachments:
            line.retranslate()


class ThreadView(Retranslating, QWidget):
    """The notices and notes of one case, newest at the bottom."""

    save_requested = Signal(str, int)  # note key, attachment index

    def __init__(self) -> None:
        super().__init__()
        self.header = heading_label(1.3)
        self.title = plain_label()
        self.notices = QVBoxLayout()
        self.removed = plain_label()
        self.removed.setStyleSheet("color: #b00020;")
        self.removed.hide()
        self.cards: list[NoteCard] = []
        self.notice_labels: list[QLabel] = []
        self.transfers: dict[tuple[str, int], tuple[int, int]] = {}  # downloads under way
        self._notes = QVBoxLayout()
        self._notes.addStretch(1)
        inner = QWidget()
        inner.setLayout(self._notes)
        self.scroll_area = QScrollArea()
        self.scroll_area.setWidgetResizable(True)
        self.scroll_area.setWidget(inner)
        self.empty = plain_label()
        self.current: CaseThread | None = None
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.header)
        layout.addWidget(self.title)
        layout.addLayout(self.notices)
        layout.addWidget(self.removed)
        layout.addWidget(self.empty)
        layout.addWidget(self.scroll_area, 1)
        self.retranslate()

    def retranslate(self) -> None:
        self.empty.setText(self.tr("Choose a case on the left, or open a new one."))
        self.removed.setText(
            self.tr("This device was removed from the case: it receives nothing new.")
        )
        for card in self.cards:
            card.retranslate()
        if self.current is not None:
            self._show_notices(self.current.notices)

    def show_thread(self, thread: CaseThread) -> None:
        if thread == self.current:  # a refresh that changed nothing keeps the cards
            return
        scrolled_to_end = self._at_end() or self.current is None
        if self.current is None or self.current.case_id != thread.case_id:
            scrolled_to_end = True
            self.transfers.clear()
        self.current = thread
        self.empty.hide()
        self.header.setText(thread.pseudonym)
        self.title.setText(thread.title)
        self.removed.setVisible(thread.removed)
        self._show_notices(thread.notices)
        for card in self.cards:
            self._notes.removeWidget(card)
            card.deleteLater()
        self.cards = [NoteCard(note, self.save_requested) for note in thread.notes]
        for card in self.cards:
            self._notes.insertWidget(self._notes.count() - 1, card)
        for (note_key, index), (done, total) in self.transfers.items():
            self._show_transfer(note_key, index, done, total)
        if scrolled_to_end:
            QTimer.singleShot(0, self._scroll_to_end)

    def card(self, note_key: str) -> NoteCard | None:
        return next((c for c in self.cards if c.note.key == note_key), None)

    def show_transfer(self, note_key: str, index: int, done: int, total: int) -> None:
        """A download's progress, kept across reloads of the thread."""
        self.transfers[(note_key, index)] = (done, total)
        self._show_transfer(note_key, index, done, total)

    def _show_transfer(self, note_key: str, index: int, done: int, total: int) -> None:
        card = self.card(note_key)
        if card is not None and index < len(card.attachments):
            card.attachments[index].show_progress(done, total)

    def _show_notices(self, notices: tuple[Notice, ...]) -> None:
        for label in self.notice_labels:
            self.notices.removeWidget(label)
            label.deleteLater()
        self.notice_labels = []
        for notice in notices:
            label = plain_label(f"⚠ {notice_text(notice)}")
            label.setObjectName("notice")
            label.setStyleSheet(
                "#notice { background: #fff3cd; color: #5c4400; padding: 6px;"
                " border: 1px solid #e0c060; border-radius: 4px; }"
            )
            self.notices.addWidget(label)
            self.notice_labels.append(label)

    def _at_end(self) -> bool:
        bar = self.scroll_area.verticalScrollBar()
        return bar.value() >= bar.maximum() - 4

    def _scroll_to_end(self) -> None:
        bar = self.scroll_area.verticalScrollBar()
        bar.setValue(bar.maximum())
