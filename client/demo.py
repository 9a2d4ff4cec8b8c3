"""``casecircle demo``: the whole product once, end to end, against a real relay on 127.0.0.1.

A coordinator creates the platform and enrols a police officer, a nurse and a social
worker (and shows a mistyped invite code being refused); the officer opens a case, the
three exchange notes and a document; a therapist added later reads the whole history; the
nurse's device is revoked and cut off; finally the relay's data directory is searched for
every note text, the case title and the file name — none may be there.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import shutil
import sys
import tempfile
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path

from client.coordinator import Coordinator, create_root, start_coordinator
from client.device import Device
from client.enrolment import accept_invite
from client.member import Member
from client.profile import Profile
from client.random import SystemRandom
from client.relay_api import RelayError
from crypto.errors import CasecircleError
from crypto.keystore import KeystoreParams
from protocol.case_items import HistoryPolicy, Note
from protocol.invites import InviteCode, make_enrolment_request
from server.app import create_app, make_runner
from server.config import Limits, RelayConfig
from server.listener import RelaySite

PASSPHRASE = "demo passphrase – not for real use"  # noqa: S105 - throwaway demo profiles
TITLE = "Rodina N. – opakované napadení (family N., repeated assault)"
PSEUDONYM = "Případ Modrá 17"
FILE_NAME = "lekarska-zprava-2026-11.pdf"
FILE = b"%PDF-1.7\n" + b"Medical report: contusions, left forearm; follow-up in 7 days.\n" * 2000


@dataclass(frozen=True, slots=True)
class DemoSettings:
    """Argon2id cost of the demo's keystores: the production default unless a test lowers it."""

    params: KeystoreParams | None = None
    insecure_floor_for_tests: KeystoreParams | None = None


Say = Callable[[str], None]


def _say(text: str) -> None:
    print(text, flush=True)


@contextlib.asynccontextmanager
async def local_relay(data_dir: Path, root_public_key: bytes) -> AsyncIterator[str]:
    """A relay on 127.0.0.1 on a free port, stopped on exit; its base URL."""
    # Every demo device connects from 127.0.0.1, so the per-address limit on logins and
    # enrolment polls is raised to what a handful of separate machines would be allowed.
    limits = dataclasses.replace(Limits(), auth_per_minute=6000)
    config = RelayConfig(
        data_dir=data_dir,
        host="127.0.0.1",
        port=0,
        root_public_key=root_public_key,
        limits=limits,
    )
    runner = make_runner(create_app(config))
    await runner.setup()
    try:
        site = RelaySite(runner, "127.0.0.1", 0, head_timeout=config.limits.header_timeout)
        await site.start()
        yield f"http://127.0.0.1:{site.port}"
    finally:
        await runner.cleanup()


def _profile(path: Path, settings: DemoSettings) -> Profile:
    if settings.params is None:
        return Profile(path)
    return Profile(
        path, params=settings.params, insecure_floor_for_tests=settings.insecure_floor_for_tests
    )


async def enrol_with_approval(
    coordinator: Coordinator,
    relay_url: str,
    profile: Profile,
    code: InviteCode,
) -> Member:
    """Accept an invite while the coordinator approves it; the member, connected."""
    enrolment = asyncio.create_task(
        accept_invite(profile, PASSPHRASE, relay_url, code, poll_interval=0.1, timeout=60)
    )
    while not enrolment.done():
        await coordinator.process_enrolments()
        await asyncio.sleep(0.2)
    unlocked = await enrolment
    member = await Member.connect(unlocked)
    assert isinstance(member, Member)
    await member.publish_key_packages(3)
    return member


def _name(device: Device) -> str:
    credential = device.credential
    return f"{credential.display_name} ({credential.organisation})"


async def _show_case(say: Say, member: Member, case_id: bytes) -> list[str]:
    texts = []
    for shown in await member.notes(case_id):
        note = shown.stored.item
        assert isinstance(note, Note)
        author = shown.author
        files = "".join(f" [+ {a.name}]" for a in note.attachments)
        say(
            f"      #{shown.seq} {author.display_name} ({author.organisation}):"
            f' "{note.text}"{files}'
        )
        texts.append(note.text)
    return texts


async def run_demo(  # noqa: PLR0912, PLR0915 - one narrated scenario, read top to bottom
    data_dir: Path, say: Say = _say, settings: DemoSettings | None = None
) -> int:
    """Run the scenario in ``data_dir``; 0 when every check held."""
    settings = settings or DemoSettings()
    rng = SystemRandom()
    relay_dir = data_dir / "relay"
    profiles = data_dir / "profiles"
    failures: list[str] = []

    say("1. The coordinator creates the platform root key (Argon2id-protected keystore).")
    coordinator_profile = _profile(profiles / "coordinator", settings)
    root_public = create_root(
        coordinator_profile,
        PASSPHRASE,
        rng,
        params=settings.params,
        insecure_floor_for_tests=settings.insecure_floor_for_tests,
    )
    async with local_relay(relay_dir, root_public) as relay_url:
        say(f"   relay listening on {relay_url}, data in {relay_dir}")
        coordinator = await start_coordinator(
            coordinator_profile,
            PASSPHRASE,
            relay_url,
            "Koordinátorka platformy",
            "Město Jirkov",
            insecure_floor_for_tests=settings.insecure_floor_for_tests,
        )
        say("2. The coordinator invites three professionals; each gets a one-time code.")
        people = [
            ("Jana Dvořáková", "Policie ČR, OO Jirkov", "police officer"),
            ("Petr Novák", "Nemocnice Chomutov", "nurse"),
            ("Eva Horáková", "OSPOD Jirkov", "social worker"),
        ]
        invites = [coordinator.invite(*person) for person in people]
        for invite in invites:
            say(f"   invite for {invite.display_name}: {len(invite.code.to_bytes()) * 8}-bit code")

        say("3. Someone who saw only an invite id (the relay, say) tries to enrol a device:")
        decoy = coordinator.invite("Testovací zařízení", "Město Jirkov", "test")
        forged = await forge_enrolment(coordinator, decoy.code.invite_id)
        say(f"   the coordinator's MAC check refuses it: {forged}")
        if forged != "invite_mac":
            failures.append("a request without the invite code was not refused")

        say("4. The three devices enrol with the right codes.")
        police, nurse, social = [
            await enrol_with_approval(
                coordinator, relay_url, _profile(profiles / f"member{i}", settings), inv.code
            )
            for i, inv in enumerate(invites)
        ]
        for member in (police, nurse, social):
            say(f"   enrolled: {_name(member)}")

        say("5. The police officer opens a case (title and pseudonym are encrypted).")
        case_id = await police.create_case(TITLE, PSEUDONYM, HistoryPolicy.FULL)
        await police.add_devices(case_id, [nurse.device_id, social.device_id])
        for member in (nurse, social):
            await member.sync()

        say("6. Notes and a document across three organisations:")
        posts = [
            (police, "Oznámení přijato 28. 11., poškozená souhlasí se spoluprací.", None),
            (
                nurse,
                "Ošetřena v nemocnici, zpráva v příloze.",
                (FILE_NAME, "application/pdf", FILE),
            ),
            (social, "Děti v péči babičky, návštěva domluvena na pondělí.", None),
        ]
        for author, text, attachment in posts:
            say(f'   {_name(author)} sends "{text}"')
            await author.post_note(case_id, text, [attachment] if attachment else None)
            for member in (police, nurse, social):
                await member.sync()

        say("7. A therapist joins later and reads the whole history (policy: full).")
        therapist_invite = coordinator.invite("Marie Svobodová", "Poradna Jirkov", "therapist")
        therapist = await enrol_with_approval(
            coordinator,
            relay_url,
            _profile(profiles / "therapist", settings),
            therapist_invite.code,
        )
        await social.add_devices(case_id, [therapist.device_id])
        await therapist.sync()
        seen = await _show_case(say, therapist, case_id)
        if seen != [text for _, text, _ in posts]:
            failures.append("the therapist does not see the full history")
        note = next(
            s.stored.item
            for s in await therapist.notes(case_id)
            if isinstance(s.stored.item, Note) and s.stored.item.attachments
        )
        assert isinstance(note, Note)
        document = await therapist.download(note.attachments[0])
        say(
            f"   therapist opened {note.attachments[0].name}: {len(document)} bytes,"
            f" intact: {document == FILE}"
        )
        if document != FILE:
            failures.append("the attachment did not round-trip")

        say("8. The nurse's laptop is lost: the coordinator revokes the device.")
        await coordinator.revoke_device(nurse.device_id)
        await police.sync()  # sees the revocation, commits the removal
        after = "Schůzka multidisciplinárního týmu ve čtvrtek v 10:00."
        say(f'   {_name(police)} sends "{after}"')
        await police.post_note(case_id, after)
        for member in (social, therapist):
            await member.sync()
        try:
            await nurse.sync()
            failures.append("the relay still serves the revoked device")
        except RelayError as exc:
            say(f"   the relay refuses the revoked device: {exc.relay_code}")
        messages, _ = await social.api.fetch(case_id, 0)
        try:
            await nurse.try_open(case_id, messages[-1].message)
            failures.append("the revoked device can read the new note")
        except CasecircleError as exc:
            say(f"   given the new note's ciphertext anyway, the revoked device fails: {exc.code}")
        members = {c.device_id for c in (await social.summary(case_id)).members}
        say(
            f"   members now: {len(members)};"
            f" the revoked device among them: {nurse.device_id in members}"
        )
        if nurse.device_id in members:
            failures.append("the revoked device was not removed from the case")
        social_texts = [
            s.stored.item.text
            for s in await social.notes(case_id)
            if isinstance(s.stored.item, Note)
        ]
        say(f"   social worker reads the new note: {after in social_texts}")
        if after not in social_texts:
            failures.append("a current member cannot read the new note")

        say("9. What the relay holds: searching its data directory for the plaintexts.")
        for device in (coordinator, police, nurse, social, therapist):
            await device.close()
    secrets = [TITLE, PSEUDONYM, FILE_NAME, after, *[text for _, text, _ in posts]]
    hits = search_plaintext(relay_dir, secrets)
    say(
        f"   searched {sum(1 for _ in relay_dir.rglob('*') if _.is_file())} files for "
        f"{len(secrets)} strings (UTF-8 and UTF-16): {len(hits)} found"
    )
    failures.extend(f"plaintext in the relay's storage: {hit}" for hit in hits)
    for failure in failures:
        say(f"FAILED: {failure}")
    say("Demo complete: every check held." if not failures else "Demo FAILED.")
    return 0 if not failures else 1


async def forge_enrolment(coordinator: Coordinator, invite_id: bytes) -> str:
    """Send a request for ``invite_id`` made without its code; the coordinator's verdict."""
    rng = SystemRandom()
    guess = InviteCode(secret=rng.random_bytes(16), platform_prefix=bytes(16))
    key = coordinator.suite.signature.generate(rng)
    request = make_enrolment_request(guess, rng.random_bytes(16), key, 1, coordinator.clock())
    request = dataclasses.replace(request, invite_id=invite_id)
    await coordinator.api.request_enrolment(invite_id, request.device_id, request.to_bytes())
    verdicts = await coordinator.process_enrolments()
    return next((v.reason for v in verdicts if v.invite.code.invite_id == invite_id), "none")


def search_plaintext(directory: Path, needles: list[str]) -> list[str]:
    """Each needle found in any file under ``directory``, as UTF-8 or UTF-16."""
    hits = []
    blobs = [path.read_bytes() for path in directory.rglob("*") if path.is_file()]
    for needle in needles:
        forms = [needle.encode("utf-8"), needle.encode("utf-16-le"), needle.encode("utf-16-be")]
        if any(form in blob for blob in blobs for form in forms):
            hits.append(needle)
    return hits


def main(data_dir: Path | None) -> int:
    if data_dir is not None:
        data_dir.mkdir(parents=True, exist_ok=True)
        if any(data_dir.iterdir()):
            print(f"casecircle demo: {data_dir} is not empty", file=sys.stderr)
            return 2
        return asyncio.run(run_demo(data_dir))
    temporary = Path(tempfile.mkdtemp(prefix="casecircle-demo-"))
    try:
        return asyncio.run(run_demo(temporary))
    finally:
        shutil.rmtree(temporary, ignore_errors=True)
