"""Every MLS decoder, fed random and mutated bytes, fails only with DecodeError.

Two properties are checked for each decoder (each ``Struct`` of the codec modules, the
tagged ``Node``, extension lists, and the content-type-dependent ``FramedContentAuthData``
and ``PrivateMessageContent`` for every content type):

* no input makes it raise anything but :class:`~protocol.errors.DecodeError` — no
  ``ValueError`` from an enum, ``IndexError``, ``KeyError``, ``RecursionError``...;
* whatever it accepts is canonical: re-encoding gives back exactly the input bytes.

Inputs are random bytes, and valid encodings with bit flips, truncations, insertions,
deletions and boundary bytes written in. The valid encodings come from the hand-built
samples and, when the interoperability vectors are present (``$MLS_TEST_VECTORS`` or
``../shared/mls-vectors``), from every structure nested in messages.json.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import random
from collections import defaultdict
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from client.cli import default_vectors_dir
from protocol.codec import Struct, decode_exact, encode_value
from protocol.errors import DecodeError
from protocol.mls import (
    constants,
    credentials,
    extensions,
    framing,
    group_context,
    key_package,
    leaf_node,
    proposals,
    tree_nodes,
    welcome,
)
from protocol.mls.constants import ContentType, LeafNodeSource
from protocol.mls.extensions import read_extensions, write_extensions
from protocol.mls.framing import (
    AuthenticatedContent,
    ConfirmedTranscriptHashInput,
    FramedContentAuthData,
    InterimTranscriptHashInput,
    MLSMessage,
    PrivateMessageContent,
    PublicMessage,
    SenderData,
)
from protocol.mls.tree_nodes import RatchetTreeExtension, read_node, write_node
from protocol.mls.vectors.messages import BARE_STRUCTS, MESSAGES
from tests.helpers import mutate
from tests.protocol.mls import samples

CODEC_MODULES = (
    constants,
    credentials,
    extensions,
    leaf_node,
    key_package,
    tree_nodes,
    proposals,
    group_context,
    welcome,
    framing,
)
# 100 examples of each of the three tests per decoder, and each mutation example checks
# MUTATIONS_PER_EXAMPLE inputs: about 900 inputs per decoder, a few seconds in all.
FUZZ = settings(
    max_examples=100, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)
MUTATIONS_PER_EXAMPLE = 4
# Mutations are driven by a plain PRNG seeded from Hypothesis: a failure prints its seed.
SEEDS = st.integers(min_value=0, max_value=2**64 - 1)


@dataclasses.dataclass(frozen=True)
class Codec:
    decode: Callable[[bytes], object]
    encode: Callable[[object], bytes]


def _struct_classes() -> Iterator[type[Struct]]:
    # dataclass(slots=True) replaces each class, and the replaced one lingers among the
    # subclasses: only the class its module exports is the real one.
    modules = {module.__name__: module for module in CODEC_MODULES}
    pending = list(Struct.__subclasses__())
    while pending:
        cls = pending.pop()
        pending.extend(cls.__subclasses__())
        module = modules.get(cls.__module__)
        exported = module is not None and getattr(module, cls.__name__, None) is cls
        if exported and not getattr(cls.decode, "__isabstractmethod__", False):
            yield cls


def _to_bytes(value: object) -> bytes:
    encoded: bytes = value.to_bytes()  # type: ignore[attr-defined]
    return encoded


def _decoders() -> dict[str, Codec]:
    table = {cls.__name__: Codec(cls.from_bytes, _to_bytes) for cls in _struct_classes()}
    table["Node"] = Codec(
        lambda data: decode_exact(data, read_node),
        lambda value: encode_value(value, write_node),  # type: ignore[arg-type]
    )
    table["extensions"] = Codec(
        lambda data: decode_exact(data, read_extensions),
        lambda value: encode_value(value, write_extensions),  # type: ignore[arg-type]
    )
    for content_type in ContentType:
        table[f"FramedContentAuthData[{content_type.name}]"] = Codec(
            functools.partial(FramedContentAuthData.from_bytes, content_type=content_type),
            _to_bytes,
        )
        table[f"PrivateMessageContent[{content_type.name}]"] = Codec(
            functools.partial(PrivateMessageContent.from_bytes, content_type=content_type),
            _to_bytes,
        )
    return dict(sorted(table.items()))


DECODERS = _decoders()


def _collect(value: object, corpus: dict[str, list[bytes]]) -> None:
    """Record the encoding of ``value`` and of every structure nested in it."""
    if isinstance(value, Struct):
        encoded = value.to_bytes()
        for klass in type(value).__mro__:
            if klass.__name__ in DECODERS:
                corpus[klass.__name__].append(encoded)
    if isinstance(value, leaf_node.LeafNode | tree_nodes.ParentNode):
        corpus["Node"].append(encode_value(value, write_node))
    if isinstance(value, AuthenticatedContent | PublicMessage):
        name = f"FramedContentAuthData[{value.content.content_type.name}]"
        corpus[name].append(value.auth.to_bytes())
    if isinstance(value, PrivateMessageContent):
        corpus[f"PrivateMessageContent[{value.content_type.name}]"].append(value.to_bytes())
    if isinstance(value, tuple):
        if value and all(isinstance(item, extensions.Extension) for item in value):
            corpus["extensions"].append(encode_value(value, write_extensions))
        for item in value:
            _collect(item, corpus)
    elif dataclasses.is_dataclass(value):
        for field in dataclasses.fields(value):
            _collect(getattr(value, field.name), corpus)


def _sample_roots() -> list[object]:
    commit_content = samples.authenticated_content(samples.commit())
    roots: list[object] = [
        *samples.proposal_bodies(),
        samples.x509_credential(),
        RatchetTreeExtension(nodes=samples.ratchet_tree()),
        samples.group_info(),
        samples.group_secrets(),
        samples.welcome(),
        samples.private_message(),
        SenderData(leaf_index=3, generation=9, reuse_guard=b"\x00\x01\x02\x03"),
        ConfirmedTranscriptHashInput(
            wire_format=commit_content.wire_format,
            content=commit_content.content,
            signature=commit_content.auth.signature,
        ),
        InterimTranscriptHashInput(confirmation_tag=b"T" * 32),
        framing.SenderDataAAD.from_bytes(samples.private_message().sender_data_aad()),
        framing.PrivateContentAAD.from_bytes(samples.private_message().content_aad()),
        *[samples.leaf_node(source) for source in LeafNodeSource],
    ]
    for payload in (
        extensions.ApplicationId(application_id=b"device"),
        extensions.ExternalPub(external_pub=b"X" * 32),
        extensions.RequiredCapabilities(proposal_types=(samples.GREASE,)),
    ):
        roots.append(payload)
    for message in samples.group_context().extensions:
        roots.append(message)
    senders = (
        framing.Sender.member(1),
        framing.Sender.external(0),
        framing.Sender.new_member_proposal(),
        framing.Sender.new_member_commit(),
    )
    for content in samples.contents():
        auth = samples.auth_for(content)
        roots.append(PrivateMessageContent(content=content, auth=auth, padding=3))
        for sender in senders:
            roots.append(samples.authenticated_content(content, sender))
            roots.append(MLSMessage(body=samples.public_message(content, sender)))
    for body in (samples.private_message(), samples.welcome(), samples.group_info()):
        roots.append(MLSMessage(body=body))
    roots.append(MLSMessage(body=samples.key_package()))
    return roots


@functools.cache
def sample_corpus() -> dict[str, tuple[bytes, ...]]:
    corpus: dict[str, list[bytes]] = defaultdict(list)
    for root in _sample_roots():
        _collect(root, corpus)
    for payload in (extensions.ExternalSenders, extensions.RequiredCapabilities):
        found = extensions.find_extension(samples.group_context().extensions, payload)
        _collect(found, corpus)
    return {name: tuple(dict.fromkeys(seeds)) for name, seeds in corpus.items()}


def vectors_path() -> Path:
    return default_vectors_dir() / "messages.json"


@functools.cache
def vector_corpus() -> dict[str, tuple[bytes, ...]]:
    path = vectors_path()
    if not path.exists():
        return {}
    cases = json.loads(path.read_text(encoding="utf-8"))
    corpus: dict[str, list[bytes]] = defaultdict(list)
    for case in cases[:: max(1, len(cases) // 25)]:
        for name, struct in BARE_STRUCTS.items():
            _collect(struct.from_bytes(bytes.fromhex(case[name])), corpus)
        for name in MESSAGES:
            _collect(MLSMessage.from_bytes(bytes.fromhex(case[name])), corpus)
    # Keep the corpus small: a few seeds of each kind, shortest first.
    return {name: tuple(sorted(set(seeds), key=len)[:12]) for name, seeds in corpus.items()}


def check(codec: Codec, data: bytes) -> None:
    try:
        value = codec.decode(data)
    except DecodeError:
        return
    assert codec.encode(value) == data, "an accepted input must be canonical"


def test_every_struct_of_the_codec_modules_is_fuzzed() -> None:
    expected = {"MLSMessage", "Credential", "PreSharedKeyID", "RatchetTreeExtension", "Node"}
    assert expected <= set(DECODERS)
    assert len(DECODERS) >= 50


@pytest.mark.parametrize("name", DECODERS)
def test_every_decoder_has_valid_samples_that_round_trip(name: str) -> None:
    seeds = sample_corpus().get(name, ())
    assert seeds, f"no hand-built sample reaches {name}"
    for seed in seeds:
        assert DECODERS[name].encode(DECODERS[name].decode(seed)) == seed


@pytest.mark.parametrize("name", DECODERS)
@FUZZ
@given(data=st.binary(max_size=200))
def test_random_bytes(name: str, data: bytes) -> None:
    check(DECODERS[name], data)


@pytest.mark.parametrize("name", DECODERS)
@FUZZ
@given(seed=SEEDS)
def test_mutated_samples(name: str, seed: int) -> None:
    rnd = random.Random(seed)
    for _ in range(MUTATIONS_PER_EXAMPLE):
        check(DECODERS[name], mutate(rnd.choice(sample_corpus()[name]), rnd))


VECTOR_KINDS = sorted(vector_corpus())


def test_vector_corpus_reaches_the_main_structures(vectors_dir: Path) -> None:
    """With the vectors present, the mutation corpus covers every message kind."""
    assert {"MLSMessage", "PublicMessage", "PrivateMessage", "Welcome", "GroupInfo"} <= set(
        VECTOR_KINDS
    )


@pytest.mark.parametrize("name", VECTOR_KINDS)
@FUZZ
@given(seed=SEEDS)
def test_mutated_vector_encodings(name: str, seed: int) -> None:
    rnd = random.Random(seed)
    seeds = vector_corpus()[name]
    for _ in range(MUTATIONS_PER_EXAMPLE):
        check(DECODERS[name], mutate(rnd.choice(seeds), rnd))
