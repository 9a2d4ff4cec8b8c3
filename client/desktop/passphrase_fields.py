"""A new passphrase as people type it: the field, a strength meter with what makes it weak,
and the same passphrase again. Used when enrolling and when changing the passphrase.

The rating is :mod:`client.desktop.passphrase_strength` (zxcvbn); only a passphrase it finds
acceptable is taken, since Argon2id slows each guess but cannot save a guessable one.
"""

from __future__ import annotations

from PySide6.QtWidgets import QFormLayout, QLabel, QLineEdit, QProgressBar, QWidget

from client.desktop.passphrase_strength import PassphraseRating, Weakness, rate_passphrase
from client.desktop.retranslating import Retranslating


class NewPassphraseFields(Retranslating, QWidget):
    def __init__(self) -> None:
        super().__init__()
        self._rating: PassphraseRating | None = None  # of the text as typed now
        self.passphrase = QLineEdit()
        self.passphrase.setEchoMode(QLineEdit.EchoMode.Password)
        self.passphrase.textChanged.connect(self._rate)
        self.repeat = QLineEdit()
        self.repeat.setEchoMode(QLineEdit.EchoMode.Password)
        self.strength = QProgressBar()
        self.strength.setRange(0, 4)
        self.strength.setTextVisible(False)
        self.strength_text = QLabel()
        self.strength_text.setWordWrap(True)
        self.labels = [QLabel(), QLabel(), QLabel()]
        form = QFormLayout(self)
        form.setContentsMargins(0, 0, 0, 0)
        form.addRow(self.labels[0], self.passphrase)
        form.addRow(self.labels[1], self.strength)
        form.addRow("", self.strength_text)
        form.addRow(self.labels[2], self.repeat)
        self.retranslate()

    def retranslate(self) -> None:
        texts = [self.tr("New passphrase"), self.tr("Strength"), self.tr("Passphrase again")]
        for label, text in zip(self.labels, texts, strict=True):
            label.setText(text)
        self._show_rating()

    def problem(self) -> str | None:
        """Why the typed passphrase cannot be taken, or None."""
        if self._rating is None or not self._rating.acceptable:
            return self.tr("Choose a stronger passphrase.")
        if self.passphrase.text() != self.repeat.text():
            return self.tr("The two passphrases differ.")
        return None

    def clear(self) -> None:
        self.passphrase.clear()
        self.repeat.clear()

    def _rate(self, passphrase: str) -> None:
        """Rate each change once (zxcvbn takes up to ~100 ms on a long passphrase)."""
        self._rating = rate_passphrase(passphrase) if passphrase else None
        self._show_rating()

    def _show_rating(self) -> None:
        rating = self._rating
        self.strength.setValue(rating.score if rating else 0)
        if rating is None:
            self.strength_text.setText(self.tr("Use four or more unrelated words."))
        elif rating.acceptable:
            self.strength_text.setText(self.tr("Strong enough."))
        else:
            hints = [self._weakness_text(w) for w in rating.weaknesses]
            self.strength_text.setText(" ".join([self.tr("Too weak."), *hints]))

    def _weakness_text(self, weakness: Weakness) -> str:
        return {
            Weakness.TOO_SHORT: self.tr("It is short."),
            Weakness.COMMON_PASSWORD: self.tr("It is a common password."),
            Weakness.NAME_OR_ORGANISATION: self.tr("It contains your name or organisation."),
            Weakness.COMMON_NAME: self.tr("It contains a common name."),
            Weakness.COMMON_WORD: self.tr("It is built from common words alone."),
            Weakness.PREDICTABLE_SUBSTITUTION: self.tr(
                "Replacing letters by digits does not help."
            ),
            Weakness.REVERSED_WORD: self.tr("A word written backwards is easy to guess."),
            Weakness.KEYBOARD_PATTERN: self.tr("It follows the keyboard."),
            Weakness.REPEAT: self.tr("It repeats itself."),
            Weakness.SEQUENCE: self.tr("It contains a sequence."),
            Weakness.DATE: self.tr("It contains a date or year."),
        }.get(weakness, "")
