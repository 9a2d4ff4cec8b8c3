"""Switching the desktop app between English and Czech while it runs: every page's texts
change (Qt delivers the change as an event), and the choice is remembered for the next
start."""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication, QSettings

from client.desktop.i18n import SETTINGS_KEY, LanguageSwitch, system_language
from tests.client.desktop.test_desktop_cases import open_new_case, send, signed_card, unlock


def test_switching_language_retranslates_the_open_window(
    qtbot, platform, open_window, settings: QSettings
) -> None:
    window = open_window(platform.enrolled_profile("police"))
    assert window.unlock_page.unlock.text() == "Unlock"
    window.switch_language("cs")
    qtbot.waitUntil(lambda: window.unlock_page.unlock.text() == "Odemknout")
    assert window.language_menu.title() == "Jazyk"
    assert QCoreApplication.translate("QPlatformTheme", "Close") == "Zavřít"  # Qt's own
    page = unlock(qtbot, window)
    assert page.composer.send.text() == "Odeslat"
    open_new_case(qtbot, page)
    assert window.connection.text() == "Připojeno"
    send(qtbot, page, "Poznámka.")
    card = signed_card(page, "Poznámka.")
    assert card is not None and card.state.text() == "podpis ověřen"
    window.switch_language("en")
    qtbot.waitUntil(lambda: page.composer.send.text() == "Send")
    assert window.connection.text() == "Online"
    assert card.state.text() == "signature verified"
    assert settings.value(SETTINGS_KEY) == "en"
    window.switch_language("cs")
    qtbot.waitUntil(lambda: page.case_list.heading.text() == "Případy")
    assert LanguageSwitch(settings).start() == "cs"


def test_the_first_start_follows_the_system_locale_and_a_choice_wins_later(
    settings: QSettings,
) -> None:
    assert LanguageSwitch(settings).start() == system_language()
    other = "cs" if system_language() == "en" else "en"
    settings.setValue(SETTINGS_KEY, other)
    assert LanguageSwitch(settings).start() == other
    LanguageSwitch(settings).switch("en", remember=False)
