"""The Czech translation is complete and compiled: every text the app's sources pass to Qt's
translator has a Czech form, and the shipped .qm is the compilation of the shipped .ts."""

from __future__ import annotations

import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

from client.desktop.i18n import TRANSLATIONS

BIN = Path(sys.executable).parent
SOURCES = sorted((TRANSLATIONS.parent).glob("*.py"))
TS = TRANSLATIONS / "casecircle_cs.ts"


def _messages(ts: Path) -> list[ET.Element]:
    return list(ET.parse(ts).getroot().iter("message"))


def test_every_source_text_has_a_czech_translation(tmp_path: Path) -> None:
    extracted = tmp_path / "casecircle_cs.ts"
    shutil.copy(TS, extracted)
    subprocess.run(
        [BIN / "pyside6-lupdate", "-no-obsolete", *SOURCES, "-ts", extracted],
        check=True,
        capture_output=True,
        timeout=120,
    )
    untranslated = []
    for message in _messages(extracted):
        translation = message.find("translation")
        assert translation is not None
        forms = [f.text for f in translation.iter("numerusform")] or [translation.text]
        if translation.get("type") in {"unfinished", "vanished", "obsolete"} or not all(forms):
            untranslated.append(message.findtext("source"))
    assert untranslated == []
    assert len(_messages(extracted)) == len(_messages(TS)), "run 'make translations'"


def test_the_shipped_qm_is_compiled_from_the_shipped_ts(tmp_path: Path) -> None:
    compiled = tmp_path / "casecircle_cs.qm"
    subprocess.run(
        [BIN / "pyside6-lrelease", TS, "-qm", compiled],
        check=True,
        capture_output=True,
        timeout=120,
    )
    assert compiled.read_bytes() == (TRANSLATIONS / "casecircle_cs.qm").read_bytes()
