"""Czech and English through Qt's translation system (DESIGN §8).

The source strings are English (``self.tr`` in each widget, extracted by ``pyside6-lupdate``
into ``translations/casecircle_cs.ts``); Czech comes from the compiled ``casecircle_cs.qm``
shipped next to it. The language follows the system locale on first start and can be
switched at any time: installing a translator makes Qt send every widget a
``LanguageChange`` event, on which each widget sets its texts again (``retranslate``).
Qt's own texts (standard buttons, file dialogs) come from the ``qtbase`` translations
that Qt ships. The choice is remembered in the app's settings (it is not secret and is
needed before the profile is unlocked).
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QCoreApplication, QLibraryInfo, QLocale, QSettings, QTranslator

from protocol.errors import InternalError

TRANSLATIONS = Path(__file__).resolve().parent / "translations"
LANGUAGES = {"en": "English", "cs": "Čeština"}
SETTINGS_KEY = "language"
QT_TRANSLATIONS = QLibraryInfo.LibraryPath.TranslationsPath


def system_language() -> str:
    """``cs`` if the system prefers Czech (or Slovak, which reads Czech), else ``en``."""
    for name in QLocale.system().uiLanguages():
        code = name.split("-")[0].split("_")[0].lower()
        if code in {"cs", "sk"}:
            return "cs"
        if code == "en":
            return "en"
    return "en"


_installed: list[QTranslator] = []  # the application's translator: one app, one language


class LanguageSwitch:
    """The one translator the app has installed, and the language it speaks."""

    def __init__(self, settings: QSettings) -> None:
        self._settings = settings
        self.language = "en"

    def start(self) -> str:
        chosen = self._settings.value(SETTINGS_KEY, None)
        language = chosen if chosen in LANGUAGES else system_language()
        self.switch(str(language), remember=False)
        return self.language

    def switch(self, language: str, *, remember: bool = True) -> None:
        if language not in LANGUAGES:
            raise ValueError(f"no translation for {language!r}")
        app = QCoreApplication.instance()
        if app is None:
            raise InternalError("the application must exist before its language is set")
        while _installed:
            QCoreApplication.removeTranslator(_installed.pop())
        if language != "en":
            translator = QTranslator(app)
            if not translator.load(f"casecircle_{language}", str(TRANSLATIONS)):
                raise FileNotFoundError(f"casecircle_{language}.qm is missing in {TRANSLATIONS}")
            QCoreApplication.installTranslator(translator)
            _installed.append(translator)
            qt_own = QTranslator(app)  # Qt's standard buttons and dialogs ("Close", "Cancel")
            if qt_own.load(f"qtbase_{language}", QLibraryInfo.path(QT_TRANSLATIONS)):
                QCoreApplication.installTranslator(qt_own)
                _installed.append(qt_own)
        self.language = language
        if remember:
            self._settings.setValue(SETTINGS_KEY, language)
