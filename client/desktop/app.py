"""``casecircle desktop``: the professionals' app (PySide6, Qt 6; the ``desktop`` extra).

    casecircle desktop [--profile DIR] [--relay URL] [--language cs|en]

The profile directory is the same as the command line's (``--profile`` or
``$CASECIRCLE_PROFILE``, else ``~/.local/share/casecircle/profile``): a new directory
starts with enrolment, an existing one with unlocking.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QApplication

from client.cli_session import PROFILE_ENV
from client.desktop.i18n import LanguageSwitch
from client.desktop.window import DesktopWindow, default_profile_dir
from client.profile import Profile

ORGANISATION = "casecircle"
APPLICATION = "casecircle"


def run(args: argparse.Namespace) -> int:
    app = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(app, QApplication)
    app.setOrganizationName(ORGANISATION)
    app.setApplicationName(APPLICATION)
    settings = QSettings()
    language = LanguageSwitch(settings)
    language.start()
    if args.language:
        language.switch(args.language, remember=False)
    profile_dir: Path = args.profile or Path(os.environ.get(PROFILE_ENV) or default_profile_dir())
    window = DesktopWindow(
        Profile(profile_dir), settings=settings, language=language, relay_url=args.relay or ""
    )
    window.show()
    return app.exec()
