"""What sealing and opening a 1 KiB note costs, side by side with the primitives it rests on.

Run on demand, not by pytest::

    python -m tests.benchmarks.bench_notes [--rounds 40] [--batch 200] [--suite 1] [--out FILE.md]
        [--profile seal|open]

What is measured is the note layer of :mod:`protocol.case_envelope`, exactly as
:meth:`client.member.Member` runs it for every note it sends and reads:

    seal   seal_item(...) on a built Note — encode the item; draw its id; SignWithLabel by
           the author over the group id, kind, epoch, item id, author, counter and item;
           pad (Padmé); derive the item's key and nonce from the epoch's history key
           (two ExpandWithLabel); AEAD-encrypt — then the envelope's bytes, which travel
           as the ``authenticated_data`` of an MLS application message
    open   parse_envelope → open_envelope (derive key and nonce, AEAD-decrypt, parse, check
           the padding is zeros) → OpenedItem.verify with the author's public key
           (VerifyWithLabel, decode the Note with its field checks, the kind check)

Not included, because they are separate layers or are paid once per epoch rather than per
note: the MLS PrivateMessage around the envelope (``Group.protect`` / ``Group.process``,
see ``make bench``), the exporter that derives the epoch's keys (run once here, on a real
one-member group), finding the author's credential in the replayed log, and the local store.

The floor is what no implementation of the same design can avoid, with the libraries the
project uses: sealing = one AES-GCM encryption of 1 KiB (``cryptography``) plus one Ed25519
signature (``cryptography``, as :mod:`crypto.signatures` signs); opening = one AES-GCM
decryption of it plus one Ed25519 verification (PyNaCl/libsodium, as
:mod:`crypto.signatures` verifies). Both include making the cipher or key object, as a
one-off operation under a fresh key must.

For reference, three more rows: Ed25519 verification as :mod:`crypto.signatures` does it
(libsodium's prime-order point check of a public key the first time it is seen, then the
verification), that point check alone (what the first note of each author costs more), and
the same verification with ``cryptography`` (OpenSSL).

Every operation is timed in ``--rounds`` interleaved rounds of ``--batch`` calls each, with
the garbage collector held off, so a neighbour's load on the machine falls on real and floor
alike. The table gives the median round; the ratio of the best rounds is shown beside it,
since other work slows the interpreted envelope code more than the primitives' C code.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import io
import os
import platform
import pstats
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import nacl.bindings
import nacl.signing
from cryptography.hazmat.primitives.asymmetric import ed25519
from cryptography.hazmat.primitives.ciphers.aead import AESGCM, ChaCha20Poly1305

from client.random import SystemRandom
from crypto.signatures import SigningKey
from crypto.suites import CipherSuite, cipher_suite
from protocol.case_envelope import (
    EpochKeys,
    VerifiedItem,
    export_epoch_keys,
    open_envelope,
    parse_envelope,
    seal_item,
)
from protocol.case_items import Note
from tests.protocol.mls.group_devices import Device

NOTE_BYTES = 1024
TARGET_RATIO = 1.5
GROUP_ID = b"case-2026-bench!"  # case ids are 16 random bytes
AUTHOR = bytes(range(16))
# Czech case-work text, as notes are written; cut to exactly NOTE_BYTES of UTF-8 below.
_SAMPLE = "Poškozená uvedla, že k napadení došlo večer; lékařská zpráva je v příloze. "


def note_text(size: int = NOTE_BYTES) -> str:
    """Text of exactly ``size`` UTF-8 bytes."""
    text = (_SAMPLE * (size // len(_SAMPLE) + 2)).encode("utf-8")[:size].decode(errors="ignore")
    return text + "." * (size - len(text.encode("utf-8")))  # a character cut in half


@dataclass(eq=False)
class Bench:
    """The callables to time, built once: each is one full operation."""

    suite: CipherSuite
    operations: dict[str, Callable[[], object]] = field(default_factory=dict)
    envelope_bytes: int = 0

    @classmethod
    def build(cls, suite: CipherSuite) -> Bench:
        bench = cls(suite)
        rng = SystemRandom()
        author = Device(suite, "author")
        group = author.create_group(GROUP_ID)
        keys = export_epoch_keys(group.epoch, group.group_id, group.export_secret)
        note = Note(text=note_text(), written_at=1_790_000_000)
        assert len(note.text.encode("utf-8")) == NOTE_BYTES
        signing_key = author.signing_key
        raw = _seal(suite, keys, signing_key, note, rng)
        bench.envelope_bytes = len(raw)
        opened = _open(suite, keys, signing_key.public_key, raw)
        assert opened.item == note and opened.author == AUTHOR

        bench.operations["seal"] = lambda: _seal(suite, keys, signing_key, note, rng)
        bench.operations["open"] = lambda: _open(suite, keys, signing_key.public_key, raw)
        bench.operations.update(_floor(suite, note.text.encode("utf-8"), rng))
        return bench


def _seal(
    suite: CipherSuite, keys: EpochKeys, signing_key: SigningKey, note: Note, rng: SystemRandom
) -> bytes:
    envelope = seal_item(suite, GROUP_ID, keys, AUTHOR, 7, signing_key, note, rng)
    return envelope.to_bytes()


def _open(suite: CipherSuite, keys: EpochKeys, author_key: bytes, raw: bytes) -> VerifiedItem:
    opened = open_envelope(suite, GROUP_ID, keys, parse_envelope(raw))
    return opened.verify(suite, author_key)


def _floor(
    suite: CipherSuite, message: bytes, rng: SystemRandom
) -> dict[str, Callable[[], object]]:
    """The primitives alone, called as directly as the libraries allow."""
    aead = AESGCM if suite.aead.name.startswith("AES") else ChaCha20Poly1305
    key = rng.random_bytes(suite.aead.key_size)
    nonce = rng.random_bytes(suite.aead.nonce_size)
    aad = rng.random_bytes(40)
    ciphertext = aead(key).encrypt(nonce, message, aad)
    private = ed25519.Ed25519PrivateKey.from_private_bytes(rng.random_bytes(32))
    public = private.public_key().public_bytes_raw()
    signature = private.sign(message)

    def floor_seal() -> None:
        aead(key).encrypt(nonce, message, aad)
        private.sign(message)

    def floor_open() -> None:
        aead(key).decrypt(nonce, ciphertext, aad)
        nacl.signing.VerifyKey(public).verify(message, signature)

    return {
        "floor_seal": floor_seal,
        "floor_open": floor_open,
        "verify_project": lambda: suite.signature.verify(public, message, signature),
        "point_check": lambda: nacl.bindings.crypto_core_ed25519_is_valid_point(public),
        "verify_openssl": lambda: ed25519.Ed25519PublicKey.from_public_bytes(public).verify(
            signature, message
        ),
    }


def time_batch(call: Callable[[], object], batch: int) -> float:
    """Seconds per call over ``batch`` calls, with the garbage collector held off."""
    gc.collect()
    gc.disable()
    try:
        start = time.perf_counter()
        for _ in range(batch):
            call()
        elapsed = time.perf_counter() - start
    finally:
        gc.enable()
    return elapsed / batch


@dataclass(frozen=True)
class Timing:
    """Seconds per call of one operation: the median round and the best round."""

    median: float
    best: float


def measure(bench: Bench, rounds: int, batch: int) -> dict[str, Timing]:
    """Every operation timed in ``rounds`` interleaved rounds of ``batch`` calls."""
    samples: dict[str, list[float]] = {name: [] for name in bench.operations}
    for call in bench.operations.values():  # warm up
        time_batch(call, max(1, batch // 10))
    for _ in range(rounds):
        for name, call in bench.operations.items():
            samples[name].append(time_batch(call, batch))
    return {
        name: Timing(statistics.median(values), min(values)) for name, values in samples.items()
    }


def profile(bench: Bench, name: str, calls: int = 5000) -> None:
    """Where one operation's time goes (stderr)."""
    profiler = cProfile.Profile()
    call = bench.operations[name]
    profiler.enable()
    for _ in range(calls):
        call()
    profiler.disable()
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(20)
    print(f"\n=== profile of {name}, {calls} calls ===\n{out.getvalue()}", file=sys.stderr)


def report(bench: Bench, timings: dict[str, Timing], rounds: int, batch: int, load: float) -> str:
    def us(name: str) -> str:
        return f"{timings[name].median * 1e6:.1f}"

    def ratios(real: str, floor: str) -> tuple[float, float]:
        return (
            timings[real].median / timings[floor].median,
            timings[real].best / timings[floor].best,
        )

    def row(label: str, real: str, floor: str) -> str:
        median, best = ratios(real, floor)
        holds = "yes" if median <= TARGET_RATIO else "**no**"
        return f"| {label} | {us(real)} | {us(floor)} | {median:.2f} | {best:.2f} | {holds} |"

    lines = [
        "# Note sealing and opening benchmark",
        "",
        f"Suite {bench.suite.name}; a {NOTE_BYTES}-byte note (UTF-8 text), envelope "
        f"{bench.envelope_bytes} bytes; Python {platform.python_version()} on "
        f"{platform.machine()}, {os.cpu_count()} CPUs, load average {load:.2f} at the start; "
        f"{rounds} interleaved rounds of {batch} calls; µs per note (median round). The best "
        "round is the least disturbed by other work on the machine.",
        "",
        f"| operation | µs | floor µs | ratio | ratio, best rounds | ≤ {TARGET_RATIO}× |",
        "|---|---|---|---|---|---|",
        row("seal (case_envelope.seal_item + envelope bytes)", "seal", "floor_seal"),
        row("open (parse + open_envelope + verify)", "open", "floor_open"),
        "",
        "Floor: seal = AES-GCM encrypt 1 KiB + Ed25519 sign (`cryptography`); "
        "open = AES-GCM decrypt + Ed25519 verify (PyNaCl).",
        "",
        "| for reference | µs |",
        "|---|---|",
        f"| Ed25519 verify as crypto/signatures.py does it (point check remembered + PyNaCl) "
        f"| {us('verify_project')} |",
        f"| the prime-order point check, paid once per public key | {us('point_check')} |",
        f"| Ed25519 verify with `cryptography` (OpenSSL) | {us('verify_openssl')} |",
    ]
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    parser.add_argument("--rounds", type=int, default=40, help="interleaved rounds (default 40)")
    parser.add_argument("--batch", type=int, default=200, help="calls per round (default 200)")
    parser.add_argument("--suite", type=int, default=1, help="an Ed25519 suite: 1 or 3")
    parser.add_argument("--out", help="also write the Markdown report to this file")
    parser.add_argument("--profile", choices=("seal", "open"), help="also profile one operation")
    args = parser.parse_args(argv)
    suite = cipher_suite(args.suite)
    if suite.signature.name != "ed25519":
        parser.error("the floor is Ed25519's: choose suite 1 or 3")
    load = os.getloadavg()[0]  # other work on the machine slows Python more than C
    bench = Bench.build(suite)
    timings = measure(bench, args.rounds, args.batch)
    text = report(bench, timings, args.rounds, args.batch, load)
    print(text)
    if args.profile:
        profile(bench, args.profile)
    if args.out:
        with open(args.out, "w", encoding="utf-8") as out:
            out.write(text)


if __name__ == "__main__":
    main()
