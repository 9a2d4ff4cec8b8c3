"""RFC 9420 §6, §7.3, §7.9, §12: what the group engine refuses, and with which typed error.

Each case is an attack of ATTACKS.md (B1 replay, B2 reflection, B3 delay, B6 redirect,
B7 tampering, C2 a removed member posting, A4 key confusion, A7 a coordinator statement
replayed, and attacker I, a malicious member) driven through the public Group API. Where
the attacker is a modified client, it runs the real engine with one check switched off on
its own side only; the receiver runs the engine unchanged.

Cases test_group.py already covers are not repeated here: a commit from a removed leaf,
a concurrent stale commit, a Welcome for another key package, a message moved to another
group, an external proposal to a group without external senders.

Every refusal leaves the receiving group as it was (:func:`untouched`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest

from crypto.errors import InvalidSignatureError, InvalidTagError
from crypto.labels import sign_with_label
from crypto.signatures import SigningKey
from crypto.suites import SUPPORTED_SUITE_IDS, CipherSuite, cipher_suite
from protocol.errors import (
    ReplayError,
    UnknownSenderError,
    WrongEpochError,
    WrongGroupError,
)
from protocol.mls import leaf_validation, proposal_list
from protocol.mls.constants import LeafNodeSource, SenderType, WireFormat
from protocol.mls.events import ApplicationMessage, MemberUpdated, ProposalQueued
from protocol.mls.extensions import Extension, find_extension
from protocol.mls.external_sender import external_proposal
from protocol.mls.framing import (
    Content,
    FramedContent,
    FramedContentAuthData,
    MLSMessage,
    PrivateMessage,
    PublicMessage,
    Sender,
    framed_content_tbs,
)
from protocol.mls.group import Group, PendingCommit
from protocol.mls.key_package import KeyPackage
from protocol.mls.key_packages import (
    create_key_package,
    default_lifetime,
    key_package_ref,
    sign_key_package,
)
from protocol.mls.key_schedule import derive_epoch_secrets
from protocol.mls.leaf_node import LeafNode
from protocol.mls.leaf_validation import DuplicateKeyError, LeafSignatureError
from protocol.mls.message_protection import (
    CONTENT_SIGNATURE_LABEL,
    MembershipTagError,
    SenderMismatchError,
)
from protocol.mls.parent_hash import ParentHashError
from protocol.mls.proposals import Commit, Proposal, Remove, Update
from protocol.mls.psk import derive_psk_secret
from protocol.mls.ratchet_tree import RatchetTree
from protocol.mls.transcript import confirmation_tag
from protocol.mls.tree_hash import TreeHashMismatchError, tree_hash
from protocol.mls.tree_nodes import RatchetTreeExtension
from protocol.mls.welcome import Welcome
from protocol.mls.welcome_protection import create_welcome, sign_group_info
from tests.protocol.mls.group_devices import (
    NOW,
    Coordinator,
    Device,
    capabilities,
    create_group_with,
    join_if_valid,
)

GROUP_ID = b"case 2026-311"
OTHER_GROUP_ID = b"case 2026-312"


@pytest.fixture(params=SUPPORTED_SUITE_IDS, ids=lambda s: f"suite{s}")
def suite(request: pytest.FixtureRequest) -> CipherSuite:
    return cipher_suite(request.param)


# --- a small case group -------------------------------------------------------------------------


def group(device: Device) -> Group:
    assert device.group is not None
    return device.group


def deliver(message: bytes, *devices: Device) -> None:
    """Each device processes a commit and merges it."""
    for device in devices:
        processed = group(device).process(message, NOW)
        assert processed.staged is not None
        group(device).merge(processed.staged)


def case_group(
    suite: CipherSuite,
    names: list[str],
    *,
    group_id: bytes = GROUP_ID,
    coordinator: Coordinator | None = None,
) -> list[Device]:
    """The first device creates the group, naming the coordinator if there is one, and
    adds the others one by one."""
    devices = [Device(suite, name) for name in names]
    extensions: tuple[Extension, ...] = () if coordinator is None else (coordinator.extension(),)
    creator = devices[0]
    create_group_with(creator, group_id, extensions)
    for index, device in enumerate(devices[1:], start=1):
        package = device.key_package()
        pending = group(creator).commit(creator.rng, NOW, add=(package,))
        deliver(pending.message, *devices[1:index])
        group(creator).merge_pending()
        assert pending.welcome is not None
        device.join(pending.welcome, package)
    return devices


def fingerprint(g: Group) -> tuple[int, bytes, bytes, int, bool]:
    state = g.state
    return (
        state.epoch,
        state.context.tree_hash,
        g.epoch_authenticator,
        len(state.proposals),
        g.pending is None,
    )


@contextmanager
def untouched(*devices: Device) -> Iterator[None]:
    """The groups of ``devices`` have the same epoch, tree, secrets, proposal cache and
    pending commit after the block as before it."""
    before = [fingerprint(group(d)) for d in devices]
    yield
    assert [fingerprint(group(d)) for d in devices] == before


def still_talking(sender: Device, *readers: Device) -> None:
    """The group still works: every reader reads a note from ``sender``."""
    note = group(sender).protect(b"still here", sender.rng)
    for reader in readers:
        (event,) = group(reader).process(note, NOW).events
        assert event == ApplicationMessage(group(sender).own_leaf, b"still here")


def private_message(message: bytes) -> PrivateMessage:
    body = MLSMessage.from_bytes(message).body
    assert isinstance(body, PrivateMessage)
    return body


def public_message(
    suite: CipherSuite, signing_key: SigningKey, g: Group, sender: Sender, content: Content
) -> bytes:
    """A PublicMessage for ``g``'s current epoch as someone without the epoch's secrets
    frames it: signed with ``signing_key``, and for a member sender with a guessed
    membership tag (§6.2)."""
    state = g.state
    framed = FramedContent(
        group_id=state.group_id, epoch=state.epoch, sender=sender, content=content
    )
    with_context = sender.sender_type in (SenderType.MEMBER, SenderType.NEW_MEMBER_COMMIT)
    tbs = framed_content_tbs(
        WireFormat.MLS_PUBLIC_MESSAGE, framed, state.context if with_context else None
    )
    auth = FramedContentAuthData(
        signature=sign_with_label(suite, signing_key, CONTENT_SIGNATURE_LABEL, tbs),
        confirmation_tag=bytes(suite.hash_size) if isinstance(content, Commit) else None,
    )
    guessed = bytes(suite.hash_size) if sender.sender_type == SenderType.MEMBER else None
    message = PublicMessage(content=framed, auth=auth, membership_tag=guessed)
    return MLSMessage(body=message).to_bytes()


# --- commits from non-members ---------------------------------------------------------------


def test_outsider_commit_without_the_membership_key_is_refused(suite: CipherSuite) -> None:
    """Someone who never was a member frames a PublicMessage commit as leaf 0."""
    alice, bob = case_group(suite, ["alice", "bob"])
    mallory = Device(suite, "mallory")
    forged = public_message(suite, mallory.signing_key, group(bob), Sender.member(0), Commit())
    with untouched(bob), pytest.raises(MembershipTagError):
        group(bob).process(forged, NOW)
    still_talking(alice, bob)


def test_external_sender_may_not_commit(suite: CipherSuite) -> None:
    """Even the coordinator, a genuine external sender, may only propose (§12.1.8)."""
    coordinator = Coordinator(suite)
    _alice, bob = case_group(suite, ["alice", "bob"], coordinator=coordinator)
    forged = public_message(
        suite, coordinator.signing_key, group(bob), Sender.external(0), Commit()
    )
    with untouched(bob), pytest.raises(SenderMismatchError):
        group(bob).process(forged, NOW)


def test_external_commit_from_a_would_be_joiner_is_refused(suite: CipherSuite) -> None:
    """A new_member_commit sender has no leaf in the tree, and external joins are not
    offered: the sender is unknown."""
    _alice, bob = case_group(suite, ["alice", "bob"])
    mallory = Device(suite, "mallory")
    forged = public_message(
        suite, mallory.signing_key, group(bob), Sender.new_member_commit(), Commit()
    )
    with untouched(bob), pytest.raises(UnknownSenderError):
        group(bob).process(forged, NOW)


def test_removed_member_keeps_posting_from_its_last_epoch(suite: CipherSuite) -> None:
    """C2: a removed device kept the epoch it was removed in. Nothing it sends from there
    is accepted, and moving it to the current epoch breaks its encryption."""
    alice, bob, carol = case_group(suite, ["alice", "bob", "carol"])
    kept = Group(group(carol).state, carol.signing_key)
    pending = group(alice).commit(alice.rng, NOW, remove=(group(carol).own_leaf,))
    deliver(pending.message, bob)
    group(alice).merge_pending()

    note = kept.protect(b"I am still on this case", carol.rng)
    commit = kept.commit(carol.rng, NOW).message
    for message in (note, commit):
        with untouched(bob), pytest.raises(WrongEpochError):
            group(bob).process(message, NOW)
        moved = dataclasses.replace(private_message(message), epoch=group(bob).epoch)
        with untouched(bob), pytest.raises(InvalidTagError):
            group(bob).process(MLSMessage(body=moved).to_bytes(), NOW)
    still_talking(alice, bob)


# --- replayed and stale commits ----------------------------------------------------------------


def test_replayed_commit_after_merge_is_refused(suite: CipherSuite) -> None:
    """B1: the relay delivers a commit again after it was merged."""
    alice, bob, carol = case_group(suite, ["alice", "bob", "carol"])
    pending = group(alice).commit(alice.rng, NOW)
    deliver(pending.message, bob, carol)
    group(alice).merge_pending()
    with untouched(bob), pytest.raises(WrongEpochError):
        group(bob).process(pending.message, NOW)
    still_talking(alice, bob, carol)


def test_duplicated_commit_before_merge_is_refused(suite: CipherSuite) -> None:
    """B1: the same commit twice in a row; its handshake key was used by the first."""
    alice, bob = case_group(suite, ["alice", "bob"])
    pending = group(alice).commit(alice.rng, NOW)
    first = group(bob).process(pending.message, NOW)
    with untouched(bob), pytest.raises(ReplayError):
        group(bob).process(pending.message, NOW)
    assert first.staged is not None
    group(bob).merge(first.staged)
    group(alice).merge_pending()
    still_talking(alice, bob)


def test_own_commit_reflected_back_is_refused(suite: CipherSuite) -> None:
    """B2: the relay hands the committer its own commit as if it came from the group."""
    alice, bob = case_group(suite, ["alice", "bob"])
    pending = group(alice).commit(alice.rng, NOW)
    with untouched(alice), pytest.raises(ReplayError):
        group(alice).process(pending.message, NOW)
    group(alice).discard_pending()
    still_talking(alice, bob)


def test_stale_staged_commit_cannot_be_merged(suite: CipherSuite) -> None:
    """Two commits for one epoch are staged; once one is merged, the other is stale."""
    alice, bob, carol = case_group(suite, ["alice", "bob", "carol"])
    winner = group(alice).commit(alice.rng, NOW)
    loser = group(bob).commit(bob.rng, NOW)
    staged_winner = group(carol).process(winner.message, NOW).staged
    staged_loser = group(carol).process(loser.message, NOW).staged
    assert staged_winner is not None and staged_loser is not None
    group(carol).merge(staged_winner)
    with untouched(carol), pytest.raises(WrongEpochError):
        group(carol).merge(staged_loser)


# --- Welcomes and the trees they carry ---------------------------------------------------------


def test_welcome_readdressed_to_another_key_package_does_not_open(suite: CipherSuite) -> None:
    """The relay relabels the Welcome's entry for carol with dave's KeyPackageRef: dave's
    init key does not open secrets sealed to carol's."""
    alice, _bob = case_group(suite, ["alice", "bob"])
    carol, dave = Device(suite, "carol"), Device(suite, "dave")
    pending = group(alice).commit(alice.rng, NOW, add=(carol.key_package(),))
    assert pending.welcome is not None
    welcome = MLSMessage.from_bytes(pending.welcome).body
    assert isinstance(welcome, Welcome)
    package = dave.key_package()
    ref = key_package_ref(suite, package)
    readdressed = dataclasses.replace(
        welcome, secrets=tuple(dataclasses.replace(s, new_member=ref) for s in welcome.secrets)
    )
    with pytest.raises(InvalidTagError):
        join_if_valid(dave, MLSMessage(body=readdressed).to_bytes(), package)
    assert dave.group is None


TreeTamper = Callable[[CipherSuite, Device, RatchetTree], None]


def forged_welcome(
    suite: CipherSuite,
    committer: Device,
    pending: PendingCommit,
    tamper: TreeTamper,
    *,
    carry_tree: bool,
) -> tuple[bytes, RatchetTree]:
    """What a malicious committer can send a joiner: the Welcome of ``pending`` re-made for
    a tree of its choosing, with tree hash, confirmation tag and GroupInfo signature made
    to match. Everything a joiner checks before the tree is in the committer's power, so
    only the tree checks (§12.4.3.1) stand between the joiner and a rigged tree.

    The tree travels in the GroupInfo (``carry_tree``) or apart from it, as a relay would
    hand it over; the (tampered) tree is returned for the latter."""
    created = pending.created
    info = created.welcome_group_info
    start = created.staged.welcome_secrets
    assert info is not None and start is not None
    carried = find_extension(info.extensions, RatchetTreeExtension)
    assert carried is not None
    tree = RatchetTree.from_extension(carried)
    tamper(suite, committer, tree)
    context = dataclasses.replace(info.group_context, tree_hash=tree_hash(suite, tree))
    secrets = derive_epoch_secrets(
        suite, start.joiner_secret, derive_psk_secret(suite, []), context.to_bytes()
    )
    others = tuple(
        e for e in info.extensions if e.extension_type != RatchetTreeExtension.extension_type
    )
    extensions = (tree.to_extension().to_extension(), *others) if carry_tree else others
    rigged = dataclasses.replace(
        info,
        group_context=context,
        extensions=extensions,
        confirmation_tag=confirmation_tag(
            suite, secrets.confirmation_key, context.confirmed_transcript_hash
        ),
    )
    welcome = create_welcome(
        suite,
        sign_group_info(suite, committer.signing_key, rigged),
        start.joiner_secret,
        created.recipients,
        committer.rng,
    )
    return MLSMessage(body=welcome).to_bytes(), tree


def keep_tree(suite: CipherSuite, committer: Device, tree: RatchetTree) -> None:
    del suite, committer, tree


def replace_parent_key(suite: CipherSuite, committer: Device, tree: RatchetTree) -> None:
    """Put a parent key the committer chose (and whose secret it knows) into the tree."""
    index, parent = next(tree.parents())
    fresh = suite.kem.generate_key_pair(committer.rng)[1]
    tree.set_parent(index, dataclasses.replace(parent, encryption_key=fresh))


def flip_committer_leaf_signature(suite: CipherSuite, committer: Device, tree: RatchetTree) -> None:
    """Break the signature of the committer's own leaf, which no parent hash covers."""
    index = next(
        i for i, leaf in tree.members() if leaf.signature_key == committer.signing_key.public_key
    )
    leaf = tree.member(index)
    signature = bytearray(leaf.signature)
    signature[-1] ^= 0x01
    tree.set_leaf(index, dataclasses.replace(leaf, signature=bytes(signature)))


def copy_leaf_key_to_parent(suite: CipherSuite, committer: Device, tree: RatchetTree) -> None:
    """Give a parent node the encryption key of a member's leaf."""
    index, parent = next(tree.parents())
    _, leaf = next(tree.members())
    tree.set_parent(index, dataclasses.replace(parent, encryption_key=leaf.encryption_key))


def add_carol(suite: CipherSuite) -> tuple[Device, Device, Device, KeyPackage, PendingCommit]:
    alice, bob = case_group(suite, ["alice", "bob"])
    carol = Device(suite, "carol")
    package = carol.key_package()
    pending = group(alice).commit(alice.rng, NOW, add=(package,))
    return alice, bob, carol, package, pending


@pytest.mark.parametrize("carry_tree", [True, False], ids=["tree_in_group_info", "tree_apart"])
def test_rigged_welcome_joins_only_if_the_tree_is_untouched(
    suite: CipherSuite, carry_tree: bool
) -> None:
    """The forging above is sound: with the tree left as it is, the joiner gets in and
    agrees with the group, so the refusals below are the tree checks' doing."""
    alice, bob, carol, package, pending = add_carol(suite)
    welcome, tree = forged_welcome(suite, alice, pending, keep_tree, carry_tree=carry_tree)
    joined = join_if_valid(carol, welcome, package, ratchet_tree=None if carry_tree else tree)
    deliver(pending.message, bob)
    group(alice).merge_pending()
    assert joined.epoch_authenticator == group(alice).epoch_authenticator
    still_talking(carol, alice, bob)


@pytest.mark.parametrize(
    ("tamper", "error"),
    [
        (replace_parent_key, ParentHashError),
        (flip_committer_leaf_signature, LeafSignatureError),
        (copy_leaf_key_to_parent, DuplicateKeyError),
    ],
    ids=["parent_hash", "leaf_signature", "duplicate_key"],
)
@pytest.mark.parametrize("carry_tree", [True, False], ids=["tree_in_group_info", "tree_apart"])
def test_rigged_tree_in_a_welcome_is_refused(
    suite: CipherSuite, tamper: TreeTamper, error: type[Exception], carry_tree: bool
) -> None:
    """A malicious committer hands the joiner a tree it rigged, consistently signed."""
    alice, _bob, carol, package, pending = add_carol(suite)
    welcome, tree = forged_welcome(suite, alice, pending, tamper, carry_tree=carry_tree)
    with pytest.raises(error):
        join_if_valid(carol, welcome, package, ratchet_tree=None if carry_tree else tree)
    assert carol.group is None


def test_tree_swapped_by_the_relay_is_refused(suite: CipherSuite) -> None:
    """The committer is honest and sends the tree apart; the relay hands over another."""
    alice, _bob, carol, package, pending = add_carol(suite)
    welcome, tree = forged_welcome(suite, alice, pending, keep_tree, carry_tree=False)
    replace_parent_key(suite, Device(suite, "relay"), tree)
    with pytest.raises(TreeHashMismatchError):
        join_if_valid(carol, welcome, package, ratchet_tree=tree)
    assert carol.group is None


# --- external senders ------------------------------------------------------------------------


def test_external_proposal_signed_by_an_impostor_is_refused(suite: CipherSuite) -> None:
    """The group names a coordinator; someone else signs as external sender 0."""
    coordinator = Coordinator(suite)
    _alice, bob = case_group(suite, ["alice", "bob"], coordinator=coordinator)
    impostor = Device(suite, "impostor")
    forged = external_proposal(
        suite,
        impostor.signing_key,
        0,
        GROUP_ID,
        group(bob).epoch,
        Proposal(body=Remove(removed=0)),
    )
    with untouched(bob), pytest.raises(InvalidSignatureError):
        group(bob).process(forged, NOW)


def test_external_sender_index_outside_the_extension_is_refused(suite: CipherSuite) -> None:
    """The extension lists one sender; a proposal claims to come from sender 1."""
    coordinator = Coordinator(suite)
    _alice, bob = case_group(suite, ["alice", "bob"], coordinator=coordinator)
    forged = external_proposal(
        suite,
        coordinator.signing_key,
        1,
        GROUP_ID,
        group(bob).epoch,
        Proposal(body=Remove(removed=0)),
    )
    with untouched(bob), pytest.raises(UnknownSenderError):
        group(bob).process(forged, NOW)


def test_external_sender_may_not_propose_an_update(suite: CipherSuite) -> None:
    """§12.1.8: an external sender has no leaf, so an Update from one is malformed."""
    coordinator = Coordinator(suite)
    _alice, bob = case_group(suite, ["alice", "bob"], coordinator=coordinator)
    update = Proposal(body=Update(leaf_node=group(bob).state.tree.member(0)))
    forged = public_message(suite, coordinator.signing_key, group(bob), Sender.external(0), update)
    with untouched(bob), pytest.raises(SenderMismatchError):
        group(bob).process(forged, NOW)


def test_coordinator_proposal_replayed_in_a_later_epoch_is_refused(suite: CipherSuite) -> None:
    """A7: the relay keeps the coordinator's Remove and plays it again after the epoch."""
    coordinator = Coordinator(suite)
    alice, bob, carol = case_group(suite, ["alice", "bob", "carol"], coordinator=coordinator)
    removal = coordinator.propose(
        GROUP_ID, group(bob).epoch, Proposal(body=Remove(removed=group(carol).own_leaf))
    )
    pending = group(alice).commit(alice.rng, NOW)
    deliver(pending.message, bob, carol)
    group(alice).merge_pending()
    with untouched(bob), pytest.raises(WrongEpochError):
        group(bob).process(removal, NOW)


def test_coordinator_proposal_moved_to_another_case_is_refused(suite: CipherSuite) -> None:
    """A7: the same coordinator serves two cases; a Remove for one is sent to the other."""
    coordinator = Coordinator(suite)
    _alice, bob = case_group(suite, ["alice", "bob"], coordinator=coordinator)
    _dora, erin = case_group(
        suite, ["dora", "erin"], group_id=OTHER_GROUP_ID, coordinator=coordinator
    )
    removal = coordinator.propose(
        GROUP_ID, group(bob).epoch, Proposal(body=Remove(removed=group(bob).own_leaf))
    )
    assert group(erin).epoch == group(bob).epoch
    with untouched(erin), pytest.raises(WrongGroupError):
        group(erin).process(removal, NOW)
    (queued,) = group(bob).process(removal, NOW).events
    assert isinstance(queued, ProposalQueued)


# --- PrivateMessages moved between epochs and groups -----------------------------------------


def test_message_delivered_after_its_epoch_is_refused(suite: CipherSuite) -> None:
    """B3: a note held back by the relay until the group moved on."""
    alice, bob = case_group(suite, ["alice", "bob"])
    note = group(alice).protect(b"before the update", alice.rng)
    pending = group(alice).commit(alice.rng, NOW)
    deliver(pending.message, bob)
    group(alice).merge_pending()
    with untouched(bob), pytest.raises(WrongEpochError):
        group(bob).process(note, NOW)
    still_talking(alice, bob)


def test_message_with_its_epoch_rewritten_does_not_decrypt(suite: CipherSuite) -> None:
    """B7: the relay rewrites the cleartext epoch so the epoch check passes; the epoch is
    authenticated data, and the keys are another epoch's."""
    alice, bob = case_group(suite, ["alice", "bob"])
    note = group(alice).protect(b"before the update", alice.rng)
    pending = group(alice).commit(alice.rng, NOW)
    deliver(pending.message, bob)
    group(alice).merge_pending()
    moved = dataclasses.replace(private_message(note), epoch=group(bob).epoch)
    with untouched(bob), pytest.raises(InvalidTagError):
        group(bob).process(MLSMessage(body=moved).to_bytes(), NOW)
    still_talking(alice, bob)


def test_message_relabelled_for_another_case_does_not_decrypt(suite: CipherSuite) -> None:
    """B6: a note of one case, its group id and epoch rewritten to another case's."""
    alice, _bob = case_group(suite, ["alice", "bob"])
    dora, erin = case_group(suite, ["dora", "erin"], group_id=OTHER_GROUP_ID)
    note = group(alice).protect(b"for case 311 only", alice.rng)
    moved = dataclasses.replace(
        private_message(note), group_id=OTHER_GROUP_ID, epoch=group(erin).epoch
    )
    with untouched(erin), pytest.raises(InvalidTagError):
        group(erin).process(MLSMessage(body=moved).to_bytes(), NOW)
    still_talking(dora, erin)


# --- duplicate leaf keys (§7.3) ------------------------------------------------------------------


def package_with_encryption_key(
    suite: CipherSuite, owner: Device, encryption_key: bytes
) -> KeyPackage:
    """A validly signed key package of ``owner`` whose leaf carries ``encryption_key``."""
    leaf = LeafNode(
        encryption_key=encryption_key,
        signature_key=owner.signing_key.public_key,
        credential=owner.credential,
        capabilities=capabilities(suite),
        leaf_node_source=LeafNodeSource.KEY_PACKAGE,
        lifetime=default_lifetime(NOW),
    )
    signed_leaf = dataclasses.replace(
        leaf, signature=sign_with_label(suite, owner.signing_key, "LeafNodeTBS", leaf.tbs())
    )
    init_key = suite.kem.generate_key_pair(owner.rng)[1]
    unsigned = KeyPackage(cipher_suite=suite.suite_id, init_key=init_key, leaf_node=signed_leaf)
    return sign_key_package(suite, owner.signing_key, unsigned)


def reusing_signature_key(suite: CipherSuite, victim: Device, g: Group) -> KeyPackage:
    """A4: a package in a new name, signed with a member's signature key."""
    carol = Device(suite, "carol")
    return create_key_package(
        suite,
        victim.signing_key,
        carol.credential,
        capabilities(suite),
        default_lifetime(NOW),
        (),
        (),
        carol.rng,
    ).key_package


def reusing_leaf_encryption_key(suite: CipherSuite, victim: Device, g: Group) -> KeyPackage:
    """A package whose leaf encryption key is a member's: the new device would read
    whatever is encrypted to that member's leaf."""
    key = g.state.tree.member(group(victim).own_leaf).encryption_key
    return package_with_encryption_key(suite, Device(suite, "carol"), key)


def reusing_parent_encryption_key(suite: CipherSuite, victim: Device, g: Group) -> KeyPackage:
    """A package whose leaf encryption key is a parent node's."""
    _, parent = next(g.state.tree.parents())
    return package_with_encryption_key(suite, Device(suite, "carol"), parent.encryption_key)


DuplicatePackage = Callable[[CipherSuite, Device, Group], KeyPackage]
DUPLICATES = pytest.mark.parametrize(
    "make_package",
    [reusing_signature_key, reusing_leaf_encryption_key, reusing_parent_encryption_key],
    ids=["member_signature_key", "member_encryption_key", "parent_encryption_key"],
)


@DUPLICATES
def test_adding_a_package_that_reuses_a_key_is_refused(
    suite: CipherSuite, make_package: DuplicatePackage
) -> None:
    alice, bob, carol = case_group(suite, ["alice", "bob", "carol"])
    package = make_package(suite, bob, group(alice))
    with untouched(alice), pytest.raises(DuplicateKeyError):
        group(alice).commit(alice.rng, NOW, add=(package,))
    still_talking(alice, bob, carol)


def test_adding_one_device_twice_in_a_commit_is_refused(suite: CipherSuite) -> None:
    """Two packages of the same device (one signature key) in one commit."""
    alice, bob = case_group(suite, ["alice", "bob"])
    carol = Device(suite, "carol")
    first, second = carol.key_package(), carol.key_package()
    with untouched(alice), pytest.raises(DuplicateKeyError):
        group(alice).commit(alice.rng, NOW, add=(first, second))
    still_talking(alice, bob)


@DUPLICATES
def test_malicious_members_commit_adding_a_reused_key_is_refused(
    suite: CipherSuite, make_package: DuplicatePackage, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A malicious member: mallory's client skips the key uniqueness check and commits
    the Add; every other member refuses the commit."""
    alice, bob, mallory = case_group(suite, ["alice", "bob", "mallory"])
    package = make_package(suite, bob, group(mallory))
    with monkeypatch.context() as patched:
        patched.setattr(proposal_list, "check_unique_keys", lambda *args, **kwargs: None)
        pending = group(mallory).commit(mallory.rng, NOW, add=(package,))
    for device in (alice, bob):
        with untouched(device), pytest.raises(DuplicateKeyError):
            group(device).process(pending.message, NOW)
    group(mallory).discard_pending()
    still_talking(mallory, alice, bob)


def update_reusing_encryption_key(suite: CipherSuite, sender: Device, key: bytes) -> Proposal:
    """An Update of ``sender``'s leaf, validly signed in place, carrying ``key``."""
    g = group(sender)
    leaf = dataclasses.replace(
        g.state.tree.member(g.own_leaf),
        encryption_key=key,
        leaf_node_source=LeafNodeSource.UPDATE,
        lifetime=None,
        parent_hash=None,
    )
    tbs = leaf.tbs(g.group_id, g.own_leaf)
    signed = dataclasses.replace(
        leaf, signature=sign_with_label(suite, sender.signing_key, "LeafNodeTBS", tbs)
    )
    return Proposal(body=Update(leaf_node=signed))


def test_colluding_commit_of_an_update_reusing_a_key_is_refused(
    suite: CipherSuite, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Malicious members: mallory proposes an Update carrying bob's encryption key; her
    accomplice's client
    skips the uniqueness check and commits it; bob and alice refuse the commit."""
    alice, bob, mallory, trent = case_group(suite, ["alice", "bob", "mallory", "trent"])
    bobs_key = group(bob).state.tree.member(group(bob).own_leaf).encryption_key
    proposal = group(mallory).propose(
        update_reusing_encryption_key(suite, mallory, bobs_key), mallory.rng
    )
    for device in (alice, bob, trent):
        group(device).process(proposal, NOW)
    with monkeypatch.context() as patched:
        patched.setattr(leaf_validation, "check_unique_keys", lambda *args, **kwargs: None)
        pending = group(trent).commit(trent.rng, NOW)
    assert any(isinstance(e, MemberUpdated) for e in pending.created.staged.events)
    for device in (alice, bob):
        with untouched(device), pytest.raises(DuplicateKeyError):
            group(device).process(pending.message, NOW)


def test_invalid_update_from_an_insider_does_not_block_honest_commits(
    suite: CipherSuite,
) -> None:
    """A malicious member: mallory proposes an Update carrying bob's encryption key. The next honest
    committer leaves it out, and the group moves on without it."""
    alice, bob, mallory = case_group(suite, ["alice", "bob", "mallory"])
    bobs_key = group(bob).state.tree.member(group(bob).own_leaf).encryption_key
    proposal = group(mallory).propose(
        update_reusing_encryption_key(suite, mallory, bobs_key), mallory.rng
    )
    for device in (alice, bob):
        group(device).process(proposal, NOW)
    pending = group(alice).commit(alice.rng, NOW)
    assert not any(isinstance(e, MemberUpdated) for e in pending.created.staged.events)
    deliver(pending.message, bob, mallory)
    group(alice).merge_pending()
    still_talking(alice, bob, mallory)
