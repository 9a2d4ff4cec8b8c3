"""Where the coordinator makes an invite: a form for whom it is (name, organisation, role),
how long it can be used and the language of its words; then the new invite's secret — its
24 words and QR image — until the coordinator hides it.

The words and the image *are* the invite's secret: they are shown once, after creating it,
until hidden. The panel only asks (through its signals) for an invite to be made or its
image saved; the page does both through the session, which saves the image only to a new
file readable by its owner.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFont, QPixmap
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from client.desktop.coordinator_session import NewInvite
from client.desktop.messages import when_text
from client.desktop.plain_text import plain_label
from client.desktop.retranslating import Retranslating
from client.invite_codes import LANGUAGES

WORDS_PER_LINE = 6
MAX_VALID_DAYS = 90


@dataclass(frozen=True)
class InviteRequest:
    """What the form asks an invite to be: for whom, how many days, words in which language."""

    display_name: str
    organisation: str
    role: str
    valid_days: int
    language: str


class InvitePanel(Retranslating, QWidget):
    """``create_requested`` carries an :class:`InviteRequest`, ``save_requested`` the shown
    invite and the path its QR image is to be saved to, ``problem`` why the form cannot
    make an invite."""

    create_requested = Signal(object)  # InviteRequest
    save_requested = Signal(object, object)  # NewInvite, Path
    problem = Signal(str)

    def __init__(self, *, language: str = "en") -> None:
        super().__init__()
        self.new_invite: NewInvite | None = None
        self.invite_name = QLineEdit()
        self.invite_organisation = QLineEdit()
        self.invite_role = QLineEdit()
        self.invite_days = QSpinBox()
        self.invite_days.setRange(1, MAX_VALID_DAYS)
        self.invite_days.setValue(7)
        self.invite_language = QComboBox()
        for code in LANGUAGES:
            self.invite_language.addItem("", code)
        index = self.invite_language.findData(language)
        self.invite_language.setCurrentIndex(max(index, 0))
        self.create_button = QPushButton()
        self.create_button.clicked.connect(self.create_invite)
        self.invite_form = QFormLayout()
        # Labels made here: QFormLayout makes none for an empty text; retranslate() sets them.
        self.invite_labels = [QLabel() for _ in range(5)]
        for label, widget in zip(
            self.invite_labels,
            (
                self.invite_name,
                self.invite_organisation,
                self.invite_role,
                self.invite_days,
                self.invite_language,
            ),
            strict=True,
        ):
            self.invite_form.addRow(label, widget)
        self._make_invite_box()
        left = QVBoxLayout()
        left.addLayout(self.invite_form)
        left.addWidget(self.create_button, 0, Qt.AlignmentFlag.AlignRight)
        left.addStretch(1)
        right = QVBoxLayout()
        right.addWidget(self.invite_box)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(left, 1)
        layout.addLayout(right, 2)
        self.retranslate()

    def _make_invite_box(self) -> None:
        """Where a new invite's secret is shown, hidden until one is created."""
        self.invite_box = QGroupBox()
        self.secret_warning = plain_label()
        self.secret_warning.setStyleSheet("color: #8d6e00; font-weight: bold;")
        self.invite_about = plain_label()
        self.invite_about.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.words = QLabel()
        self.words.setObjectName("invite_words")
        self.words.setTextFormat(Qt.TextFormat.PlainText)
        self.words.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        mono = QFont("monospace")
        mono.setStyleHint(QFont.StyleHint.Monospace)
        mono.setPointSizeF(self.words.font().pointSizeF() * 1.2)
        self.words.setFont(mono)
        self.qr = QLabel()
        self.qr.setObjectName("invite_qr")
        self.save_qr_button = QPushButton()
        self.save_qr_button.clicked.connect(self._save_qr_dialog)
        self.hide_button = QPushButton()
        self.hide_button.clicked.connect(self.hide_invite)
        shown = QHBoxLayout()
        shown.addWidget(self.words, 1, Qt.AlignmentFlag.AlignTop)
        shown.addWidget(self.qr, 0, Qt.AlignmentFlag.AlignTop)
        box_buttons = QHBoxLayout()
        box_buttons.addWidget(self.save_qr_button)
        box_buttons.addStretch(1)
        box_buttons.addWidget(self.hide_button)
        box_layout = QVBoxLayout(self.invite_box)
        box_layout.addWidget(self.secret_warning)
        box_layout.addWidget(self.invite_about)
        box_layout.addLayout(shown)
        box_layout.addLayout(box_buttons)
        self.invite_box.hide()

    def retranslate(self) -> None:
        labels = [
            self.tr("Name"),
            self.tr("Organisation"),
            self.tr("Role"),
            self.tr("Valid for"),
            self.tr("Words in"),
        ]
        for label, text in zip(self.invite_labels, labels, strict=True):
            label.setText(text)
        self.invite_name.setPlaceholderText(self.tr("The member's full name"))
        self.invite_organisation.setPlaceholderText(self.tr("Their agency"))
        self.invite_role.setPlaceholderText(self.tr("e.g. police officer, nurse, social worker"))
        self.invite_days.setSuffix(self.tr(" days"))
        names = {"en": self.tr("English"), "cs": self.tr("Czech")}
        for index in range(self.invite_language.count()):
            code = str(self.invite_language.itemData(index))
            self.invite_language.setItemText(index, names.get(code, code))
        self.create_button.setText(self.tr("Create invite"))
        self.invite_box.setTitle(self.tr("Invite code"))
        self.secret_warning.setText(
            self.tr(
                "These words and this image are the invite's secret. Hand them over in person"
                " or on a channel apart from the relay, then hide them."
            )
        )
        self.save_qr_button.setText(self.tr("Save QR image…"))
        self.hide_button.setText(self.tr("Done: hide the code"))
        if self.new_invite is not None:
            self.show_invite(self.new_invite)

    # --- making an invite ---------------------------------------------------------------

    def create_invite(self) -> None:
        """Ask for an invite as the form describes it; the button stays off until the
        page answers with :meth:`created` or :meth:`creation_failed`."""
        name = self.invite_name.text().strip()
        organisation = self.invite_organisation.text().strip()
        role = self.invite_role.text().strip()
        if not (name and organisation and role):
            self.problem.emit(self.tr("An invite needs a name, an organisation and a role."))
            return
        self.create_button.setEnabled(False)
        self.create_requested.emit(
            InviteRequest(
                name,
                organisation,
                role,
                self.invite_days.value(),
                str(self.invite_language.currentData()),
            )
        )

    def created(self, invite: NewInvite) -> None:
        """Empty the form and show the new invite's secret."""
        self.create_button.setEnabled(True)
        for field in (self.invite_name, self.invite_organisation, self.invite_role):
            field.clear()
        self.show_invite(invite)

    def creation_failed(self) -> None:
        self.create_button.setEnabled(True)

    # --- the secret ---------------------------------------------------------------------

    def show_invite(self, invite: NewInvite) -> None:
        self.new_invite = invite
        words = invite.words
        self.words.setText(
            "\n".join(
                " ".join(words[start : start + WORDS_PER_LINE])
                for start in range(0, len(words), WORDS_PER_LINE)
            )
        )
        pixmap = QPixmap()
        pixmap.loadFromData(invite.qr_png, "PNG")
        self.qr.setPixmap(pixmap)
        about = invite.invite
        self.invite_about.setText(
            self.tr(
                "For {0} ({1}), {2}. Invite id {3}. It can be used until {4}; the device's"
                " credential then lasts {5} days."
            ).format(
                about.display_name,
                about.organisation,
                about.role,
                about.invite_id.hex(),
                when_text(about.expires_at),
                about.credential_days,
            )
        )
        self.invite_box.show()

    def hide_invite(self) -> None:
        """Take the secret off the screen (the invite stays valid in the book)."""
        self.new_invite = None
        self.words.clear()
        self.qr.clear()
        self.invite_about.clear()
        self.invite_box.hide()

    def _save_qr_dialog(self) -> None:
        if self.new_invite is None:
            return
        name, _ = QFileDialog.getSaveFileName(
            self,
            self.tr("Save the invite's QR image"),
            "invite.png",
            self.tr("PNG images (*.png)"),
            options=QFileDialog.Option.DontConfirmOverwrite,
        )
        if name:
            self.save_qr_to(Path(name))

    def save_qr_to(self, path: Path) -> None:
        """Ask for the shown invite's QR image to be written to a new file (an existing
        one is never overwritten)."""
        if self.new_invite is not None:
            self.save_requested.emit(self.new_invite, path)
