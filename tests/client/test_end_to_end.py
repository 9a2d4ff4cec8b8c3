"""End to end against a real relay on 127.0.0.1, with one client profile per person (tiny
Argon2id costs): what test_demo.py and test_member.py leave open.

- Enrolment with a mistyped invite code that the words' checksum lets through (the CLI
  tests show the typos it catches), as the member experiences it: a typo in the platform
  half stops at once; a typo in the secret half files a request under an invite nobody
  issued, so the device waits out its timeout — and the real invite stays usable. A right
  code for an expired invite is refused by the coordinator; a genuine device beaten to its
  invite by a forged request is told so.
- A case across police, hospital and social services: every member sees the same history,
  each item attributed to the certified author and organisation, and no security event;
  a 5 MiB attachment arrives byte-exact, read in pieces with the progress the attachment
  opener reports. An honest case leaves even its committer's security log empty.
- The relay as its own process, SIGKILLed twice while a member posts (once after it
  stored a note but before its answer was read, once with the send in flight) and
  restarted: the outbox resends, and every note reaches another member exactly once.
- A revoked device that never saw its removal is handed every later message of several
  epochs — notes, an attachment, a new member's commit and the history ring that carries
  every earlier key (as a relay that colludes with it could): nothing opens, with its MLS
  state or any key it holds. (test_removed_members.py C1 shows one note after a removal.)
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import random
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from client.case_state import CaseState
from client.coordinator import (
    DAY,
    Approval,
    Coordinator,
    create_root,
    start_coordinator,
)
from client.demo import PASSPHRASE, enrol_with_approval, forge_enrolment, local_relay
from client.enrolment import EnrolmentRejectedError, EnrolmentTimeoutError, accept_invite
from client.invite_codes import read_invite, wordlist, words_of
from client.member import Member, ShownItem
from client.profile import Profile, UnlockedProfile
from client.random import SystemRandom
from client.relay_api import RelayError, RelayUnavailableError, SentMessage
from crypto.attachments import AttachmentOpener
from crypto.errors import CasecircleError
from protocol.case_envelope import (
    EnvelopeDecryptError,
    EnvelopeKind,
    EpochKeys,
    open_envelope,
    parse_envelope,
)
from protocol.case_items import HistoryPolicy, Note
from protocol.invites import InviteCode, InviteCodeError, PlatformMismatchError
from protocol.mls.constants import ContentType
from protocol.mls.framing import MLSMessage, PrivateMessage
from server.config import Limits
from tests.client.conftest import TEST_FLOOR, TINY
from tests.server.relay_process import RelayProcess, relay_process

pytestmark = pytest.mark.asyncio

PEOPLE = {
    "police": ("Jana Dvořáková", "Policie ČR, OO Jirkov", "police officer"),
    "hospital": ("Petr Novák", "Nemocnice Chomutov", "nurse"),
    "social": ("Eva Horáková", "OSPOD Jirkov", "social worker"),
    "therapist": ("Marie Svobodová", "Poradna Jirkov", "therapist"),
}
FIVE_MIB = 5 * 1024 * 1024
# Every device connects from 127.0.0.1: the per-address login limit is raised, as the demo does.
LIMITS = dataclasses.replace(Limits(), auth_per_minute=6000)


def _profile(path: Path) -> Profile:
    return Profile(path, params=TINY, insecure_floor_for_tests=TEST_FLOOR)


@dataclass
class Platform:
    """A coordinator on a relay, and where the people's profiles go."""

    coordinator: Coordinator
    relay_url: str
    profiles: Path
    members: list[Member] = field(default_factory=list)

    async def enrol(self, who: str) -> Member:
        invite = self.coordinator.invite(*PEOPLE[who])
        member = await enrol_with_approval(
            self.coordinator, self.relay_url, _profile(self.profiles / who), invite.code
        )
        self.members.append(member)
        return member


@asynccontextmanager
async def _coordinated(
    tmp_path: Path, start_relay: Callable[[bytes], AbstractAsyncContextManager[str]]
) -> AsyncIterator[Platform]:
    """Make the platform root, start a relay for it, and register the coordinator on it."""
    profile = _profile(tmp_path / "profiles" / "coordinator")
    root_public = create_root(
        profile, PASSPHRASE, SystemRandom(), params=TINY, insecure_floor_for_tests=TEST_FLOOR
    )
    async with start_relay(root_public) as url:
        coordinator = await start_coordinator(
            profile,
            PASSPHRASE,
            url,
            "Koordinátorka",
            "Město Jirkov",
            insecure_floor_for_tests=TEST_FLOOR,
        )
        platform = Platform(coordinator, url, tmp_path / "profiles")
        try:
            yield platform
        finally:
            for member in platform.members:
                await member.close()
            await coordinator.close()


@pytest_asyncio.fixture
async def platform(tmp_path: Path) -> AsyncIterator[Platform]:
    """The relay in this process (aiohttp on a free port of 127.0.0.1)."""
    async with _coordinated(tmp_path, lambda root: local_relay(tmp_path / "relay", root)) as made:
        yield made


def _lines(items: list[ShownItem]) -> list[tuple[str, str, int | None]]:
    """(author's organisation as certified, note text, relay sequence number)."""
    lines = []
    for shown in items:
        assert isinstance(shown.stored.item, Note)
        lines.append((shown.author.organisation, shown.stored.item.text, shown.seq))
    return lines


async def _texts(member: Member, case_id: bytes) -> list[str]:
    return [text for _, text, _ in _lines(await member.notes(case_id))]


async def _security_codes(member: Member) -> list[str]:
    return [event.code for event in await member.store.security_events()]


# --- enrolment -----------------------------------------------------------------------------


async def _accept_while_coordinator_works(
    platform: Platform, path: Path, code: InviteCode, timeout: float
) -> tuple[UnlockedProfile | CasecircleError, list[Approval]]:
    """Run ``accept_invite`` while the coordinator keeps processing requests; what the
    device got (its profile or the typed error) and every verdict the coordinator made."""
    enrolment = asyncio.create_task(
        accept_invite(
            _profile(path),
            PASSPHRASE,
            platform.relay_url,
            code,
            poll_interval=0.05,
            timeout=timeout,
        )
    )
    verdicts: list[Approval] = []
    while not enrolment.done():
        verdicts += await platform.coordinator.process_enrolments()
        await asyncio.sleep(0.05)
    try:
        return await enrolment, verdicts
    except CasecircleError as exc:
        return exc, verdicts


def _typo_past_the_checksum(code: InviteCode, position: int) -> InviteCode:
    """What the member's device reads when the word at ``position`` is typed as another
    word of the list and the 8-bit checksum does not catch it (about 1 substitution in
    256 slips through). Positions 0–10 hold only secret bits, 12–22 only prefix bits."""
    words = list(words_of(code))
    for other in wordlist("en").words:
        typed = " ".join([*words[:position], other, *words[position + 1 :]])
        with contextlib.suppress(InviteCodeError):
            read = read_invite(typed)
            if read != code:
                return read
    raise AssertionError("every substitution was caught")


async def test_a_mistyped_invite_code_is_refused_and_the_right_one_still_enrols(
    platform: Platform,
) -> None:
    coordinator = platform.coordinator
    invite = coordinator.invite(*PEOPLE["police"])
    pending_before = await coordinator.api.pending_enrolments()

    # A typo in the platform half: the prefix no longer pins the relay's root. The device
    # stops before it sends anything.
    in_prefix = _typo_past_the_checksum(invite.code, 18)
    got, verdicts = await _accept_while_coordinator_works(
        platform, platform.profiles / "typo-prefix", in_prefix, timeout=5
    )
    assert isinstance(got, PlatformMismatchError) and got.code == "platform_mismatch"
    assert verdicts == []
    assert await coordinator.api.pending_enrolments() == pending_before

    # A typo in the secret half: another invite id, which no coordinator issued. The
    # request is filed and left alone; the device is told only when its wait runs out.
    in_secret = _typo_past_the_checksum(invite.code, 3)
    assert in_secret.invite_id != invite.code.invite_id
    got, verdicts = await _accept_while_coordinator_works(
        platform, platform.profiles / "typo-secret", in_secret, timeout=1.0
    )
    assert isinstance(got, EnrolmentTimeoutError) and got.code == "enrolment_timeout"
    assert verdicts == []  # neither approved nor rejected: it names no invite in the book
    assert await coordinator.api.enrolment_status(in_secret.invite_id) == "pending"
    for attempt in ("typo-prefix", "typo-secret"):  # nothing on disk before approval
        assert not _profile(platform.profiles / attempt).exists()

    # The invite was not spent by either typo: the right code enrols the invited person.
    got, verdicts = await _accept_while_coordinator_works(
        platform, platform.profiles / "police", invite.code, timeout=30
    )
    assert isinstance(got, UnlockedProfile), got
    assert [(v.approved, v.reason) for v in verdicts] == [(True, "approved")]
    member = await Member.connect(got)
    assert isinstance(member, Member)
    platform.members.append(member)
    credential = member.credential
    assert (credential.display_name, credential.organisation, credential.role) == PEOPLE["police"]
    assert credential.member_id == invite.member_id
    assert credential.invite_id == invite.code.invite_id


async def test_the_right_code_for_an_expired_invite_is_rejected(platform: Platform) -> None:
    coordinator = platform.coordinator
    real_clock = coordinator.clock
    coordinator.clock = lambda: real_clock() - 8 * DAY  # issued 8 days ago, valid for 7
    try:
        stale = coordinator.invite(*PEOPLE["hospital"])
    finally:
        coordinator.clock = real_clock
    got, verdicts = await _accept_while_coordinator_works(
        platform, platform.profiles / "hospital", stale.code, timeout=30
    )
    assert isinstance(got, EnrolmentRejectedError) and got.code == "enrolment_rejected"
    assert [(v.approved, v.reason) for v in verdicts] == [(False, "coordinator")]
    assert not _profile(platform.profiles / "hospital").exists()


async def test_a_device_beaten_to_its_invite_by_a_forged_request_is_told_so(
    platform: Platform,
) -> None:
    coordinator = platform.coordinator
    invite = coordinator.invite(*PEOPLE["social"])
    # The relay (or anyone who saw the invite id) files a request without the code first.
    assert await forge_enrolment(coordinator, invite.code.invite_id) == "invite_mac"
    with pytest.raises(RelayError) as refused:
        await accept_invite(
            _profile(platform.profiles / "social"),
            PASSPHRASE,
            platform.relay_url,
            invite.code,
            poll_interval=0.05,
            timeout=2,
        )
    # The relay keeps one request per invite: the genuine one is refused at once, as the
    # member guide says (docs/guide-member.md, "relay: … invite_used").
    assert (refused.value.status, refused.value.relay_code) == (409, "invite_used")
    assert not _profile(platform.profiles / "social").exists()


# --- one case, three organisations, a 5 MiB attachment -------------------------------------


async def test_three_organisations_share_a_case_and_a_5_mib_attachment(
    platform: Platform,
) -> None:
    police, hospital, social = [
        await platform.enrol(who) for who in ("police", "hospital", "social")
    ]
    everyone = (police, hospital, social)
    case_id = await police.create_case("Rodina N.", "Případ Modrá 17", HistoryPolicy.FULL)
    await police.add_devices(case_id, [hospital.device_id, social.device_id])
    report = random.Random("5 MiB report").randbytes(FIVE_MIB)
    posts = [
        (police, "Oznámení přijato, poškozená souhlasí se spoluprací.", None),
        (hospital, "Ošetřena, zpráva v příloze.", ("zprava.pdf", "application/pdf", report)),
        (social, "Děti v péči babičky, návštěva v pondělí.", None),
    ]
    for author, text, file in posts:
        await author.sync()
        await author.post_note(case_id, text, [file] if file else None)
    for member in everyone:
        await member.sync()

    # One history, the same for all, each note attributed to its certified organisation.
    expected = [(author.credential.organisation, text) for author, text, _ in posts]
    assert [organisation for organisation, _ in expected] == [
        PEOPLE[who][1] for who in ("police", "hospital", "social")
    ]
    views = [_lines(await member.notes(case_id)) for member in everyone]
    assert [(organisation, text) for organisation, text, _ in views[0]] == expected
    assert views[0] == views[1] == views[2]  # same sequence numbers everywhere too
    for member in everyone:
        summary = await member.summary(case_id)
        assert (summary.title, summary.pseudonym) == ("Rodina N.", "Případ Modrá 17")
        assert {c.organisation for c in summary.members} == {org for org, _ in expected}
        assert await _security_codes(member) == []  # nothing refused, no gap

    note = (await social.notes(case_id))[1].stored.item
    assert isinstance(note, Note)
    (attachment,) = note.attachments
    assert (attachment.name, attachment.media_type) == ("zprava.pdf", "application/pdf")
    assert await police.download(attachment) == report

    # The attachment opener reports progress per 64 KiB chunk while the blob is read in
    # pieces; the relay holds the padded, sealed blob only.
    blob = await social.api.download_blob(attachment.blob_id)
    assert len(blob) == attachment.ref.blob_size > FIVE_MIB
    opener = AttachmentOpener(attachment.ref)
    progress = [opener.chunks_done]
    pieces = []
    for offset in range(0, len(blob), 256 * 1024):
        pieces.append(opener.update(blob[offset : offset + 256 * 1024]))
        progress.append(opener.chunks_done)
    opener.finalize()
    assert b"".join(pieces) == report
    assert progress == sorted(progress)
    assert progress[0] == 0 and progress[-1] == opener.chunk_count == attachment.ref.chunk_count
    assert len(set(progress)) == len(progress)  # every piece moved the bar


async def test_an_honest_case_leaves_the_committers_security_log_empty(
    platform: Platform,
) -> None:
    police, social = await platform.enrol("police"), await platform.enrol("social")
    case_id = await police.create_case("Rodina N.", "Případ Modrá 17", HistoryPolicy.FULL)
    await police.add_devices(case_id, [social.device_id])  # commit, then a history ring
    await police.post_note(case_id, "Oznámení přijato.")
    for member in (police, social):
        await member.sync()
    assert await _texts(social, case_id) == ["Oznámení přijato."]
    assert await _security_codes(social) == []
    assert await _security_codes(police) == []


# --- the relay killed mid-send ------------------------------------------------------------


@dataclass
class SendTap:
    """Stands in for one member's ``RelayApi.send``: passes every call on, and kills the
    relay (SIGKILL) at the call after ``kill_next`` is set — ``"after_store"`` once the
    relay stored the message and answered, the answer then never read (a connection that
    died on the way back); ``"in_flight"`` while the request is with the relay."""

    relay: RelayProcess
    send: Callable[..., Awaitable[SentMessage]]
    kill_next: str | None = None
    answers: list[tuple[str, SentMessage]] = field(default_factory=list)
    cut: list[str] = field(default_factory=list)

    async def __call__(
        self, group_id: bytes, client_message_id: str, message: bytes, **kwargs: Any
    ) -> SentMessage:
        plan, self.kill_next = self.kill_next, None
        if plan == "after_store":
            await self.send(group_id, client_message_id, message, **kwargs)
            self.relay.kill()
            self.cut.append(client_message_id)
            raise RelayUnavailableError("the relay died before its answer was read")
        if plan == "in_flight":
            sending = asyncio.ensure_future(
                self.send(group_id, client_message_id, message, **kwargs)
            )
            await asyncio.sleep(0.002)
            self.relay.kill()
            self.cut.append(client_message_id)
            sent = await sending  # RelayUnavailableError, unless the answer beat the kill
        else:
            sent = await self.send(group_id, client_message_id, message, **kwargs)
        self.answers.append((client_message_id, sent))
        return sent


@asynccontextmanager
async def _subprocess_relay(work_dir: Path, root: bytes) -> AsyncIterator[RelayProcess]:
    work_dir.mkdir(parents=True)
    with relay_process(work_dir, root, LIMITS) as relay:
        yield relay


async def test_no_note_is_lost_or_doubled_when_the_relay_is_killed_mid_send(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    processes: list[RelayProcess] = []

    @asynccontextmanager
    async def start(root: bytes) -> AsyncIterator[str]:
        async with _subprocess_relay(tmp_path / "relay", root) as relay:
            processes.append(relay)
            yield relay.url

    async with _coordinated(tmp_path, start) as platform:
        (relay,) = processes
        police, social = await platform.enrol("police"), await platform.enrol("social")
        case_id = await police.create_case("Rodina N.", "Případ Modrá 17", HistoryPolicy.FULL)
        await police.add_devices(case_id, [social.device_id])
        await social.sync()

        tap = SendTap(relay, police.api.send)
        monkeypatch.setattr(police.api, "send", tap)
        texts = [f"Záznam {index}: průběh jednání s poškozenou." for index in range(12)]
        kills = {3: "after_store", 8: "in_flight"}
        restarts = {6, 11}  # the relay stays down for the notes in between
        url = relay.url
        for index, text in enumerate(texts):
            if index in restarts:
                await asyncio.to_thread(relay.start)
                assert relay.url == url, "the relay came back on another port"
            tap.kill_next = kills.get(index)
            await police.post_note(case_id, text)  # kept in the outbox while the relay is down
        assert relay.starts == 3
        assert len(tap.cut) == 2

        await police.flush_outbox()
        assert await police.store.pending_outbox() == []
        # The note whose answer was lost had been stored: its resend got the original number.
        stored_first = tap.cut[0]
        assert [sent.duplicate for cid, sent in tap.answers if cid == stored_first] == [True]

        await social.sync()
        await police.sync()
        assert await _texts(social, case_id) == texts  # each once, in the order written
        assert await _texts(police, case_id) == texts
        assert "gap" not in await _security_codes(social)


# --- a revoked device after its removal ---------------------------------------------------


async def _held_keys(member: Member, case_id: bytes) -> dict[int, bytes]:
    """Every epoch key the device's local store holds for the case."""
    record = await member.store.load_group(case_id)
    assert record is not None
    return CaseState.from_bytes(record.state).history_keys


async def test_a_revoked_device_opens_nothing_sent_after_its_removal(platform: Platform) -> None:
    police, hospital, social = [
        await platform.enrol(who) for who in ("police", "hospital", "social")
    ]
    case_id = await police.create_case("Rodina N.", "Případ Modrá 17", HistoryPolicy.FULL)
    await police.add_devices(case_id, [hospital.device_id, social.device_id])
    await police.post_note(case_id, "Před odvoláním: schůzka v úterý.")
    await hospital.sync()
    before = await _texts(hospital, case_id)
    held = await _held_keys(hospital, case_id)

    # The hospital device is lost. The coordinator revokes it; the next member online
    # commits its removal. Everything the relay logs from here on is after the removal.
    await platform.coordinator.revoke_device(hospital.device_id)
    await police.sync()
    assert hospital.device_id not in {c.device_id for c in (await police.summary(case_id)).members}
    removal_seq = dict((g, seq) for g, _, seq in await police.api.groups())[case_id]

    # The case goes on: notes, an attachment, a therapist added (so a history ring holding
    # every earlier epoch key is sent), and the therapist's own note.
    await social.sync()
    await police.post_note(case_id, "Po odvolání: nové svědectví.")
    await social.post_note(
        case_id, "Zpráva OSPOD v příloze.", [("ospod.pdf", "application/pdf", b"%PDF-1.7 ...")]
    )
    therapist = await platform.enrol("therapist")
    await social.add_devices(case_id, [therapist.device_id])
    await therapist.sync()
    await therapist.post_note(case_id, "První konzultace proběhla.")
    await social.sync()
    later, _ = await social.api.fetch(case_id, removal_seq)
    assert len(later) >= 5

    # Through the relay, the revoked device gets nothing at all.
    with pytest.raises(RelayError) as refused:
        await hospital.sync()
    assert refused.value.relay_code == "device_refused"

    # Handed every later message anyway, it opens none with the MLS state it kept ...
    refusals = []
    for message in later:
        with pytest.raises(CasecircleError) as failed:
            await hospital.try_open(case_id, message.message)
        refusals.append(failed.value.code)
    assert set(refusals) == {"wrong_epoch"}, refusals  # its epoch is over for good

    # ... nor any envelope (notes, the ring) with any epoch key it holds: it has no key of a
    # later epoch, and none of its keys, tried in a later epoch's place, decrypts.
    envelopes = []
    for message in later:
        body = MLSMessage.from_bytes(message.message).body
        if isinstance(body, PrivateMessage) and body.content_type == ContentType.APPLICATION:
            envelopes.append(parse_envelope(body.authenticated_data))
    assert {envelope.kind for envelope in envelopes} == {EnvelopeKind.CONTENT, EnvelopeKind.RING}
    assert max(held) < min(envelope.epoch for envelope in envelopes)
    for envelope in envelopes:
        for key in held.values():
            keys = EpochKeys(epoch=envelope.epoch, history_key=key, ring_key=key)
            with pytest.raises(EnvelopeDecryptError):
                open_envelope(hospital.suite, case_id, keys, envelope)
    assert await _texts(hospital, case_id) == before

    # The members who remain read all of it.
    await therapist.sync()
    assert await _texts(therapist, case_id) == [
        "Před odvoláním: schůzka v úterý.",
        "Po odvolání: nové svědectví.",
        "Zpráva OSPOD v příloze.",
        "První konzultace proběhla.",
    ]
