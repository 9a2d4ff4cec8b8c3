"""What each check proves, what it cannot prove, and which attacks of the catalogue it covers.

The report prints these next to each verdict, so a signer reads the limits of a "pass" in
the same place as the pass. docs/guide-auditor.md says the same at length.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True, slots=True, kw_only=True)
class Claim:
    key: str
    number: int
    title: str
    proves: str
    cannot_prove: str


CHECKS: Mapping[str, Claim] = {
    claim.key: claim
    for claim in (
        Claim(
            key="inventory",
            number=1,
            title="Inventory",
            proves="The relay's database holds exactly the tables and columns listed in"
            " docs/zero-knowledge.md (no extra column, view, trigger or virtual table); its"
            " data directory holds only the documented files, the identity key readable by"
            " its owner only; every line of the log files given comes from a documented"
            " logger.",
            cannot_prove="What the relay keeps in memory, writes to files outside the data"
            " directory or to logs not handed over, or sends to another machine.",
        ),
        Claim(
            key="payloads",
            number=2,
            title="Ciphertext only",
            proves="Every stored payload parses strictly as its documented form: members'"
            " messages as PrivateMessages with case envelopes, the only PublicMessages being"
            " coordinator-signed Add/Remove proposals, Welcomes, valid KeyPackages (public"
            " keys only), attachment blobs, enrolment requests. Ciphertext fields hold no"
            " readable text and do not compress; padded sizes are padded; no column holds"
            " text where its type says integer or bytes; ids have their documented length.",
            cannot_prove="That a ciphertext was made under a key the relay never had (a"
            " client could encrypt to the relay), nor that sizes hide more than Padmé allows."
            " Welcomes, KeyPackages and proposals keep their exact sizes.",
        ),
        Claim(
            key="canary",
            number=3,
            title="Canary",
            proves="Random markers planted through the real client in a case title and"
            " pseudonym, a note, a file name and a file, and the throwaway devices' keys, the"
            " file key and the invite secrets, appear in no file of the data directory and no"
            " log file given, raw or as UTF-16, hex, base64 or base64url.",
            cannot_prove="Anything about copies outside the files searched, content held in"
            " memory, or content stored transformed (compressed, or encrypted under the"
            " relay's own key). It is a sample: one title, note and file.",
        ),
        Claim(
            key="transparency",
            number=4,
            title="Transparency log",
            proves="Every log entry carries the platform root's (coordinator's) signature; the"
            " Merkle root of every prefix is recomputed; every tree head exported by a client"
            " matches the stored log, heads of one size agree (no fork) and consecutive heads"
            " are consistent (RFC 9162); every credential the relay serves, in its directory"
            " and KeyPackages, is in the log; every device it delivers to is logged; every"
            " member device has an approved enrolment request under its invite id, with a"
            " valid proof of possession of the certified key.",
            cannot_prove="That the invite code was held by the right person (its MAC needs the"
            " code), that coordinator devices are wanted (they are listed for confirmation),"
            " or anything about forks towards clients whose heads were not collected.",
        ),
    )
}

ATTACKS: Mapping[str, tuple[str, tuple[str, ...]]] = {
    "Z1": (
        "Canary text in notes, titles and file names never appears in the relay's storage or"
        " logs: the canary searched for it; the payload check found no readable text in any"
        " ciphertext field and no text in any other column.",
        ("canary", "payloads"),
    ),
    "Z2": (
        "No key material on the relay: the only key file is the relay's own identity key"
        " (owner-only); KeyPackages validate as public keys; Welcomes and messages are"
        " ciphertext; the throwaway devices' signature keys, the file key and the invite"
        " secrets were searched for and not found.",
        ("inventory", "payloads", "canary"),
    ),
    "Z3": (
        "The relay stores exactly the documented inventory: tables, columns, files, loggers.",
        ("inventory",),
    ),
    "Z4": (
        "What the relay can still correlate is documented: the report's inventory table shows"
        " each metadata column (class M) with its row count — who is in which group, when,"
        " and the sizes of what is sent — as docs/zero-knowledge.md lists; the payload check"
        " shows which sizes are padded and which are exact.",
        ("inventory", "payloads"),
    ),
}
