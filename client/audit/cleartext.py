"""Does a field that should be ciphertext look like something a person wrote?

Ciphertext is indistinguishable from random bytes. Random bytes almost never hold a long
run of printable text, and never compress. So a ciphertext field is refused when

* it holds a run of at least :data:`MIN_TEXT_RUN` printable characters in UTF-8 (ASCII and
  the two- to four-byte sequences of accented and other scripts — also base64 and hex, which
  are printable ASCII), or of :data:`MIN_UTF16_RUN` in UTF-16; the chance of such a run at a
  given offset of random bytes is below 10⁻¹², so a gigabyte of blobs raises a false alarm
  with odds of about one in a thousand;
* or, from :data:`MIN_COMPRESSIBLE` bytes on, zlib shrinks it below :data:`MAX_RATIO` of its
  size — padding zeros, repeated structure or any low-entropy data left unencrypted.

Short plaintext (a few words) in a field that must *parse* as a ciphertext structure fails
the parse or the padding check before this heuristic is needed.
"""

from __future__ import annotations

import re
import zlib

MIN_TEXT_RUN = 32
MIN_UTF16_RUN = 16
MIN_COMPRESSIBLE = 1024
MAX_RATIO = 0.9
SAMPLE = 1024 * 1024

_UTF8_RUN = re.compile(
    rb"(?:[\t\n\r\x20-\x7e]|[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}"
    rb"|[\xf0-\xf4][\x80-\xbf]{3}){%d,}" % MIN_TEXT_RUN
)
_UTF16_RUN = re.compile(
    rb"(?:[\x20-\x7e]\x00){%d,}|(?:\x00[\x20-\x7e]){%d,}" % (MIN_UTF16_RUN, MIN_UTF16_RUN)
)
SNIPPET = 16
"""At most this much of a suspected plaintext is quoted as evidence: enough to recognise it."""


def cleartext_evidence(data: bytes) -> str | None:
    """Why ``data`` looks like plaintext rather than ciphertext, or ``None``."""
    for pattern, encoding in ((_UTF8_RUN, "UTF-8"), (_UTF16_RUN, "UTF-16")):
        match = pattern.search(data)
        if match is not None:
            text = match.group().decode("utf-8" if encoding == "UTF-8" else "latin-1", "replace")
            shown = text.replace("\x00", "")[:SNIPPET]
            return (
                f"{len(match.group())} bytes of readable {encoding} text at offset"
                f" {match.start()}: {shown!r}"
            )
    if len(data) >= MIN_COMPRESSIBLE:
        sample = data[:SAMPLE]
        ratio = len(zlib.compress(sample, 1)) / len(sample)
        if ratio < MAX_RATIO:
            return f"compresses to {ratio:.0%} of its size: not the output of a cipher"
    return None
