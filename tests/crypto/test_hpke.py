"""crypto.hpke and crypto.dhkem: RFC 9180 known answers, a cross-check against
``cryptography``'s own HPKE, and the typed failures of ATTACKS.md E1/E3."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from cryptography.hazmat.primitives import hpke as lib_hpke
from cryptography.hazmat.primitives.asymmetric import ec, x25519
from hypothesis import given, settings
from hypothesis import strategies as st

from crypto.aead import AES_128_GCM, AES_256_GCM, CHACHA20_POLY1305, Aead
from crypto.errors import InvalidKeyError, InvalidLengthError, InvalidTagError
from crypto.hpke import (
    DHKEM_P256,
    DHKEM_P384,
    DHKEM_P521,
    DHKEM_X448,
    DHKEM_X25519,
    Hpke,
    HpkePrivateKey,
    Kem,
    MessageLimitReachedError,
)
from crypto.kdf import HKDF_SHA256, HKDF_SHA384, HKDF_SHA512, Kdf
from tests.helpers import DeterministicRandom

ALL_KEMS = (DHKEM_X25519, DHKEM_X448, DHKEM_P256, DHKEM_P384, DHKEM_P521)
ALL_KDFS = (HKDF_SHA256, HKDF_SHA384, HKDF_SHA512)
ALL_AEADS = (AES_128_GCM, AES_256_GCM, CHACHA20_POLY1305)


# --- RFC 9180 Appendix A: base-mode test vectors -------------------------------------------

INFO = bytes.fromhex("4f6465206f6e2061204772656369616e2055726e")  # "Ode on a Grecian Urn"
PLAINTEXT = bytes.fromhex("4265617574792069732074727574682c20747275746820626561757479")
EXPORTER_CONTEXTS = (b"", b"\x00", b"TestContext")


@dataclass(frozen=True)
class Rfc9180Vector:
    section: str
    kem: Kem
    kdf: Kdf
    aead: Aead
    ikm_e: str
    pk_em: str
    sk_em: str
    ikm_r: str
    pk_rm: str
    sk_rm: str
    shared_secret: str
    key: str
    base_nonce: str
    exporter_secret: str
    ciphertexts: dict[int, str]  # sequence number -> ct, aad = "Count-<seq>"
    exports: tuple[str, str, str]  # for EXPORTER_CONTEXTS, L = 32


RFC9180_VECTORS = (
    Rfc9180Vector(
        section="A.1.1",
        kem=DHKEM_X25519,
        kdf=HKDF_SHA256,
        aead=AES_128_GCM,
        ikm_e="7268600d403fce431561aef583ee1613527cff655c1343f29812e66706df3234",
        pk_em="37fda3567bdbd628e88668c3c8d7e97d1d1253b6d4ea6d44c150f741f1bf4431",
        sk_em="52c4a758a802cd8b936eceea314432798d5baf2d7e9235dc084ab1b9cfa2f736",
        ikm_r="6db9df30aa07dd42ee5e8181afdb977e538f5e1fec8a06223f33f7013e525037",
        pk_rm="3948cfe0ad1ddb695d780e59077195da6c56506b027329794ab02bca80815c4d",
        sk_rm="4612c550263fc8ad58375df3f557aac531d26850903e55a9f23f21d8534e8ac8",
        shared_secret="fe0e18c9f024ce43799ae393c7e8fe8fce9d218875e8227b0187c04e7d2ea1fc",
        key="4531685d41d65f03dc48f6b8302c05b0",
        base_nonce="56d890e5accaaf011cff4b7d",
        exporter_secret="45ff1c2e220db587171952c0592d5f5ebe103f1561a2614e38f2ffd47e99e3f8",
        ciphertexts={
            0: "f938558b5d72f1a23810b4be2ab4f84331acc02fc97babc53a52ae8218a355a9"
            "6d8770ac83d07bea87e13c512a",
            1: "af2d7e9ac9ae7e270f46ba1f975be53c09f8d875bdc8535458c2494e8a6eab25"
            "1c03d0c22a56b8ca42c2063b84",
            2: "498dfcabd92e8acedc281e85af1cb4e3e31c7dc394a1ca20e173cb7251649158"
            "8d96a19ad4a683518973dcc180",
            4: "583bd32bc67a5994bb8ceaca813d369bca7b2a42408cddef5e22f880b631215a"
            "09fc0012bc69fccaa251c0246d",
            255: "7175db9717964058640a3a11fb9007941a5d1757fda1a6935c805c21af32505b"
            "f106deefec4a49ac38d71c9e0a",
            256: "957f9800542b0b8891badb026d79cc54597cb2d225b54c00c5238c25d05c30e3"
            "fbeda97d2e0e1aba483a2df9f2",
        },
        exports=(
            "3853fe2b4035195a573ffc53856e77058e15d9ea064de3e59f4961d0095250ee",
            "2e8f0b54673c7029649d4eb9d5e33bf1872cf76d623ff164ac185da9e88c21a5",
            "e9e43065102c3836401bed8c3c3c75ae46be1639869391d62c61f1ec7af54931",
        ),
    ),
    Rfc9180Vector(
        section="A.2.1",
        kem=DHKEM_X25519,
        kdf=HKDF_SHA256,
        aead=CHACHA20_POLY1305,
        ikm_e="909a9b35d3dc4713a5e72a4da274b55d3d3821a37e5d099e74a647db583a904b",
        pk_em="1afa08d3dec047a643885163f1180476fa7ddb54c6a8029ea33f95796bf2ac4a",
        sk_em="f4ec9b33b792c372c1d2c2063507b684ef925b8c75a42dbcbf57d63ccd381600",
        ikm_r="1ac01f181fdf9f352797655161c58b75c656a6cc2716dcb66372da835542e1df",
        pk_rm="4310ee97d88cc1f088a5576c77ab0cf5c3ac797f3d95139c6c84b5429c59662a",
        sk_rm="8057991eef8f1f1af18f4a9491d16a1ce333f695d4db8e38da75975c4478e0fb",
        shared_secret="0bbe78490412b4bbea4812666f7916932b828bba79942424abb65244930d69a7",
        key="ad2744de8e17f4ebba575b3f5f5a8fa1f69c2a07f6e7500bc60ca6e3e3ec1c91",
        base_nonce="5c4d98150661b848853b547f",
        exporter_secret="a3b010d4994890e2c6968a36f64470d3c824c8f5029942feb11e7a74b2921922",
        ciphertexts={
            0: "1c5250d8034ec2b784ba2cfd69dbdb8af406cfe3ff938e131f0def8c8b60b4db"
            "21993c62ce81883d2dd1b51a28",
            1: "6b53c051e4199c518de79594e1c4ab18b96f081549d45ce015be002090bb119e"
            "85285337cc95ba5f59992dc98c",
            2: "71146bd6795ccc9c49ce25dda112a48f202ad220559502cef1f34271e0cb4b02"
            "b4f10ecac6f48c32f878fae86b",
            4: "63357a2aa291f5a4e5f27db6baa2af8cf77427c7c1a909e0b37214dd47db122b"
            "b153495ff0b02e9e54a50dbe16",
            255: "18ab939d63ddec9f6ac2b60d61d36a7375d2070c9b683861110757062c52b888"
            "0a5f6b3936da9cd6c23ef2a95c",
            256: "7a4a13e9ef23978e2c520fd4d2e757514ae160cd0cd05e556ef692370ca53076"
            "214c0c40d4c728d6ed9e727a5b",
        },
        exports=(
            "4bbd6243b8bb54cec311fac9df81841b6fd61f56538a775e7c80a9f40160606e",
            "8c1df14732580e5501b00f82b10a1647b40713191b7c1240ac80e2b68808ba69",
            "5acb09211139c43b3090489a9da433e8a30ee7188ba8b0a9a1ccf0c229283e53",
        ),
    ),
    Rfc9180Vector(
        section="A.3.1",
        kem=DHKEM_P256,
        kdf=HKDF_SHA256,
        aead=AES_128_GCM,
        ikm_e="4270e54ffd08d79d5928020af4686d8f6b7d35dbe470265f1f5aa22816ce860e",
        pk_em="04a92719c6195d5085104f469a8b9814d5838ff72b60501e2c4466e5e67b32"
        "5ac98536d7b61a1af4b78e5b7f951c0900be863c403ce65c9bfcb9382657222d18c4",
        sk_em="4995788ef4b9d6132b249ce59a77281493eb39af373d236a1fe415cb0c2d7beb",
        ikm_r="668b37171f1072f3cf12ea8a236a45df23fc13b82af3609ad1e354f6ef817550",
        pk_rm="04fe8c19ce0905191ebc298a9245792531f26f0cece2460639e8bc39cb7f70"
        "6a826a779b4cf969b8a0e539c7f62fb3d30ad6aa8f80e30f1d128aafd68a2ce72ea0",
        sk_rm="f3ce7fdae57e1a310d87f1ebbde6f328be0a99cdbcadf4d6589cf29de4b8ffd2",
        shared_secret="c0d26aeab536609a572b07695d933b589dcf363ff9d93c93adea537aeabb8cb8",
        key="868c066ef58aae6dc589b6cfdd18f97e",
        base_nonce="4e0bc5018beba4bf004cca59",
        exporter_secret="14ad94af484a7ad3ef40e9f3be99ecc6fa9036df9d4920548424df127ee0d99f",
        ciphertexts={
            0: "5ad590bb8baa577f8619db35a36311226a896e7342a6d836d8b7bcd2f20b6c7f"
            "9076ac232e3ab2523f39513434",
            1: "fa6f037b47fc21826b610172ca9637e82d6e5801eb31cbd3748271affd4ecb06"
            "646e0329cbdf3c3cd655b28e82",
            2: "895cabfac50ce6c6eb02ffe6c048bf53b7f7be9a91fc559402cbc5b8dcaeb52b"
            "2ccc93e466c28fb55fed7a7fec",
            4: "8787491ee8df99bc99a246c4b3216d3d57ab5076e18fa27133f520703bc70ec9"
            "99dd36ce042e44f0c3169a6a8f",
            255: "2ad71c85bf3f45c6eca301426289854b31448bcf8a8ccb1deef3ebd87f60848a"
            "a53c538c30a4dac71d619ee2cd",
            256: "10f179686aa2caec1758c8e554513f16472bd0a11e2a907dde0b212cbe87d74f"
            "367f8ffe5e41cd3e9962a6afb2",
        },
        exports=(
            "5e9bc3d236e1911d95e65b576a8a86d478fb827e8bdfe77b741b289890490d4d",
            "6cff87658931bda83dc857e6353efe4987a201b849658d9b047aab4cf216e796",
            "d8f1ea7942adbba7412c6d431c62d01371ea476b823eb697e1f6e6cae1dab85a",
        ),
    ),
    Rfc9180Vector(
        section="A.6.1",
        kem=DHKEM_P521,
        kdf=HKDF_SHA512,
        aead=AES_256_GCM,
        ikm_e="7f06ab8215105fc46aceeb2e3dc5028b44364f960426eb0d8e4026c2f8b5d7"
        "e7a986688f1591abf5ab753c357a5d6f0440414b4ed4ede71317772ac98d9239f709"
        "04",
        pk_em="040138b385ca16bb0d5fa0c0665fbbd7e69e3ee29f63991d3e9b5fa740aab8"
        "900aaeed46ed73a49055758425a0ce36507c54b29cc5b85a5cee6bae0cf1c21f2731"
        "ece2013dc3fb7c8d21654bb161b463962ca19e8c654ff24c94dd2898de12051f1ed0"
        "692237fb02b2f8d1dc1c73e9b366b529eb436e98a996ee522aef863dd5739d2f29b0",
        sk_em="014784c692da35df6ecde98ee43ac425dbdd0969c0c72b42f2e708ab9d5354"
        "15a8569bdacfcc0a114c85b8e3f26acf4d68115f8c91a66178cdbd03b7bcc5291e37"
        "4b",
        ikm_r="2ad954bbe39b7122529f7dde780bff626cd97f850d0784a432784e69d86ecc"
        "aade43b6c10a8ffdb94bf943c6da479db137914ec835a7e715e36e45e29b587bab3b"
        "f1",
        pk_rm="0401b45498c1714e2dce167d3caf162e45e0642afc7ed435df7902ccae0e84"
        "ba0f7d373f646b7738bbbdca11ed91bdeae3cdcba3301f2457be452f271fa6837580"
        "e661012af49583a62e48d44bed350c7118c0d8dc861c238c72a2bda17f64704f464b"
        "57338e7f40b60959480c0e58e6559b190d81663ed816e523b6b6a418f66d2451ec64",
        sk_rm="01462680369ae375e4b3791070a7458ed527842f6a98a79ff5e0d4cbde83c2"
        "7196a3916956655523a6a2556a7af62c5cadabe2ef9da3760bb21e005202f7b24628"
        "47",
        shared_secret="776ab421302f6eff7d7cb5cb1adaea0cd50872c71c2d63c30c4f1"
        "d5e43653336fef33b103c67e7a98add2d3b66e2fda95b5b2a667aa9dac7e59cc1d46"
        "d30e818",
        key="751e346ce8f0ddb2305c8a2a85c70d5cf559c53093656be636b9406d4d7d1b70",
        base_nonce="55ff7a7d739c69f44b25447b",
        exporter_secret="e4ff9dfbc732a2b9c75823763c5ccc954a2c0648fc6de80a585"
        "81252d0ee3215388a4455e69086b50b87eb28c169a52f42e71de4ca61c920e7bd24c"
        "95cc3f992",
        ciphertexts={
            0: "170f8beddfe949b75ef9c387e201baf4132fa7374593dfafa90768788b7b2b20"
            "0aafcc6d80ea4c795a7c5b841a",
            1: "d9ee248e220ca24ac00bbbe7e221a832e4f7fa64c4fbab3945b6f3af0c5ecd5e"
            "16815b328be4954a05fd352256",
            2: "142cf1e02d1f58d9285f2af7dcfa44f7c3f2d15c73d460c48c6e0e506a3144ba"
            "e35284e7e221105b61d24e1c7a",
            4: "3bb3a5a07100e5a12805327bf3b152df728b1c1be75a9fd2cb2bf5eac0cca1fb"
            "80addb37eb2a32938c7268e3e5",
            255: "4f268d0930f8d50b8fd9d0f26657ba25b5cb08b308c92e33382f369c768b558e"
            "113ac95a4c70dd60909ad1adc7",
            256: "dbbfc44ae037864e75f136e8b4b4123351d480e6619ae0e0ae437f036f2f8f1e"
            "f677686323977a1ccbb4b4f16a",
        },
        exports=(
            "05e2e5bd9f0c30832b80a279ff211cc65eceb0d97001524085d609ead60d0412",
            "fca69744bb537f5b7a1596dbf34eaa8d84bf2e3ee7f1a155d41bd3624aa92b63",
            "f389beaac6fcf6c0d9376e20f97e364f0609a88f1bc76d7328e9104df8477013",
        ),
    ),
)


def _ids(vector: Rfc9180Vector) -> str:
    return vector.section


@pytest.fixture(params=RFC9180_VECTORS, ids=_ids)
def vector(request: pytest.FixtureRequest) -> Rfc9180Vector:
    param: Rfc9180Vector = request.param
    return param


def test_derive_key_pair_matches_rfc9180(vector: Rfc9180Vector) -> None:
    for ikm, sk_m, pk_m in (
        (vector.ikm_e, vector.sk_em, vector.pk_em),
        (vector.ikm_r, vector.sk_rm, vector.pk_rm),
    ):
        private_key, public_key = vector.kem.derive_key_pair(bytes.fromhex(ikm))
        assert private_key.to_bytes().hex() == sk_m
        assert public_key.hex() == pk_m
        assert vector.kem.public_key_of(private_key) == public_key


def test_private_key_serialization_round_trips(vector: Rfc9180Vector) -> None:
    private_key = vector.kem.deserialize_private_key(bytes.fromhex(vector.sk_rm))
    assert private_key.to_bytes().hex() == vector.sk_rm
    assert private_key.public_key().hex() == vector.pk_rm
    assert private_key == vector.kem.derive_key_pair(bytes.fromhex(vector.ikm_r))[0]


def test_encap_and_decap_match_rfc9180(vector: Rfc9180Vector) -> None:
    kem = vector.kem
    shared_secret, enc = kem.encap_with_ikm(
        bytes.fromhex(vector.pk_rm), bytes.fromhex(vector.ikm_e)
    )
    assert enc.hex() == vector.pk_em  # enc = SerializePublicKey(pkE)
    assert shared_secret.hex() == vector.shared_secret
    sk_r = kem.deserialize_private_key(bytes.fromhex(vector.sk_rm))
    assert kem.decap(enc, sk_r) == shared_secret


def test_key_schedule_sequence_and_export_match_rfc9180(vector: Rfc9180Vector) -> None:
    suite = Hpke(vector.kem, vector.kdf, vector.aead)
    pk_r = bytes.fromhex(vector.pk_rm)
    enc, sender = suite.setup_base_s_with_ikm(pk_r, INFO, bytes.fromhex(vector.ikm_e))
    sk_r = vector.kem.deserialize_private_key(bytes.fromhex(vector.sk_rm))
    recipient = suite.setup_base_r(enc, sk_r, INFO)
    for context in (sender, recipient):  # the key schedule's outputs are not public API
        assert context._key.hex() == vector.key
        assert context._base_nonce.hex() == vector.base_nonce
        assert context._exporter_secret.hex() == vector.exporter_secret

    for seq in range(max(vector.ciphertexts) + 1):
        aad = f"Count-{seq}".encode()
        ciphertext = sender.seal(aad, PLAINTEXT)
        if seq in vector.ciphertexts:
            assert ciphertext.hex() == vector.ciphertexts[seq], f"sequence number {seq}"
        assert recipient.open(aad, ciphertext) == PLAINTEXT

    for exporter_context, expected in zip(EXPORTER_CONTEXTS, vector.exports, strict=True):
        assert sender.export(exporter_context, 32).hex() == expected
        assert recipient.export(exporter_context, 32).hex() == expected


# --- Independent cross-check: cryptography's single-shot HPKE ------------------------------

LIBRARY_KEMS = {
    DHKEM_X25519: lib_hpke.KEM.X25519,
    DHKEM_P256: lib_hpke.KEM.P256,
    DHKEM_P384: lib_hpke.KEM.P384,
    DHKEM_P521: lib_hpke.KEM.P521,
}  # cryptography has no DHKEM(X448)
LIBRARY_CURVES = {
    DHKEM_P256: ec.SECP256R1(),
    DHKEM_P384: ec.SECP384R1(),
    DHKEM_P521: ec.SECP521R1(),
}
LIBRARY_KDFS = {
    HKDF_SHA256: lib_hpke.KDF.HKDF_SHA256,
    HKDF_SHA384: lib_hpke.KDF.HKDF_SHA384,
    HKDF_SHA512: lib_hpke.KDF.HKDF_SHA512,
}
LIBRARY_AEADS = {
    AES_128_GCM: lib_hpke.AEAD.AES_128_GCM,
    AES_256_GCM: lib_hpke.AEAD.AES_256_GCM,
    CHACHA20_POLY1305: lib_hpke.AEAD.CHACHA20_POLY1305,
}


def _library_private_key(
    kem: Kem, private_key: HpkePrivateKey
) -> x25519.X25519PrivateKey | ec.EllipticCurvePrivateKey:
    if kem == DHKEM_X25519:
        return x25519.X25519PrivateKey.from_private_bytes(private_key.to_bytes())
    scalar = int.from_bytes(private_key.to_bytes(), "big")
    return ec.derive_private_key(scalar, LIBRARY_CURVES[kem])


@pytest.mark.parametrize("kem", list(LIBRARY_KEMS), ids=lambda k: k.name)
@pytest.mark.parametrize("kdf", ALL_KDFS, ids=lambda k: k.name)
@pytest.mark.parametrize("aead", ALL_AEADS, ids=lambda a: a.name)
def test_interoperates_with_cryptography_hpke(kem: Kem, kdf: Kdf, aead: Aead) -> None:
    rng = DeterministicRandom(f"{kem.name}/{kdf.name}/{aead.name}")
    suite = Hpke(kem, kdf, aead)
    library = lib_hpke.Suite(LIBRARY_KEMS[kem], LIBRARY_KDFS[kdf], LIBRARY_AEADS[aead])
    sk_r, pk_r = kem.generate_key_pair(rng)
    library_sk = _library_private_key(kem, sk_r)
    assert LIBRARY_KEMS[kem].enc_length() == kem.n_enc
    info, message = b"casecircle interop", b"a case note"

    # The library's wire format is enc || ciphertext, with empty aad.
    enc, ciphertext = suite.seal_base(pk_r, info, b"", message, rng)
    assert library.decrypt(enc + ciphertext, library_sk, info) == message

    sealed = library.encrypt(message, library_sk.public_key(), info)
    enc, ciphertext = sealed[: kem.n_enc], sealed[kem.n_enc :]
    assert suite.open_base(enc, sk_r, info, b"", ciphertext) == message
    with pytest.raises(InvalidTagError):
        suite.open_base(enc, sk_r, b"another info", b"", ciphertext)


# --- Round trips and determinism -----------------------------------------------------------


@pytest.mark.parametrize("kem", ALL_KEMS, ids=lambda k: k.name)
def test_key_generation_uses_only_the_given_randomness(kem: Kem) -> None:
    first = kem.generate_key_pair(DeterministicRandom("seed"))
    again = kem.generate_key_pair(DeterministicRandom("seed"))
    other = kem.generate_key_pair(DeterministicRandom("other seed"))
    assert first == again
    assert first[1] != other[1]
    assert len(first[1]) == kem.n_pk
    assert len(first[0].to_bytes()) == kem.n_sk
    kem.validate_public_key(first[1])


@settings(max_examples=25, deadline=None)
@given(
    kem=st.sampled_from(ALL_KEMS),
    aead=st.sampled_from(ALL_AEADS),
    info=st.binary(max_size=64),
    aad=st.binary(max_size=64),
    plaintext=st.binary(max_size=256),
)
def test_seal_open_round_trip(
    kem: Kem, aead: Aead, info: bytes, aad: bytes, plaintext: bytes
) -> None:
    rng = DeterministicRandom(info + aad)
    suite = Hpke(kem, kem.kdf, aead)
    sk_r, pk_r = kem.generate_key_pair(rng)
    enc, ciphertext = suite.seal_base(pk_r, info, aad, plaintext, rng)
    assert len(enc) == kem.n_enc
    assert len(ciphertext) == len(plaintext) + aead.tag_size
    assert suite.open_base(enc, sk_r, info, aad, ciphertext) == plaintext


def test_same_randomness_same_output_and_fresh_randomness_fresh_output() -> None:
    suite = Hpke(DHKEM_X25519, HKDF_SHA256, AES_128_GCM)
    _, pk_r = DHKEM_X25519.generate_key_pair(DeterministicRandom("recipient"))
    first = suite.seal_base(pk_r, b"", b"", b"note", DeterministicRandom("sender"))
    again = suite.seal_base(pk_r, b"", b"", b"note", DeterministicRandom("sender"))
    assert first == again
    rng = DeterministicRandom("sender")
    assert suite.seal_base(pk_r, b"", b"", b"note", rng) != suite.seal_base(
        pk_r, b"", b"", b"note", rng
    )


# --- Typed failures (ATTACKS.md E1: low-order and invalid points; E3: AEAD edge cases) ----

X25519_LOW_ORDER = [
    bytes.fromhex(h)
    for h in (
        "0000000000000000000000000000000000000000000000000000000000000000",  # 0, order 4
        "0100000000000000000000000000000000000000000000000000000000000000",  # 1, order 1
        "e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800",  # order 8
        "5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157",  # order 8
        "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",  # p - 1, order 2
        "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",  # p (= 0)
        "eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",  # p + 1 (= 1)
    )
]
# RFC 7748 ignores the top bit, so each point has a second encoding with it set.
X25519_LOW_ORDER += [point[:-1] + bytes([point[-1] | 0x80]) for point in X25519_LOW_ORDER]
X448_P = 2**448 - 2**224 - 1
X448_LOW_ORDER = [u.to_bytes(56, "little") for u in (0, 1, X448_P - 1, X448_P, X448_P + 1)]


@pytest.mark.parametrize(
    ("kem", "point"),
    [(DHKEM_X25519, p) for p in X25519_LOW_ORDER] + [(DHKEM_X448, p) for p in X448_LOW_ORDER],
    ids=lambda v: v.hex()[:12] if isinstance(v, bytes) else v.name,
)
def test_low_order_points_are_refused_everywhere(kem: Kem, point: bytes) -> None:
    suite = Hpke(kem, kem.kdf, AES_256_GCM)
    sk_r, _ = kem.generate_key_pair(DeterministicRandom("recipient"))
    with pytest.raises(InvalidKeyError):
        kem.validate_public_key(point)
    with pytest.raises(InvalidKeyError):  # as a recipient key: no shared secret is derived
        suite.seal_base(point, b"", b"", b"secret", DeterministicRandom("sender"))
    with pytest.raises(InvalidKeyError):  # as an attacker's enc
        suite.open_base(point, sk_r, b"", b"", bytes(32))


X25519_P = 2**255 - 19
MONTGOMERY_PRIMES = {DHKEM_X25519: X25519_P, DHKEM_X448: X448_P}


def _non_canonical_encodings(kem: Kem) -> dict[str, bytes]:
    """Second byte strings for points that are not of low order (so the all-zero check
    alone does not catch them): u + p where that still fits, and the ignored top bit."""
    _, honest = kem.generate_key_pair(DeterministicRandom("honest"))
    prime = MONTGOMERY_PRIMES[kem]
    base_u = 9 if kem == DHKEM_X25519 else 5  # RFC 7748 §4.1 and §4.2
    encodings = {
        "base point + p": (base_u + prime).to_bytes(kem.n_pk, "little"),
        "2 + p": (2 + prime).to_bytes(kem.n_pk, "little"),
        "all ones": b"\xff" * kem.n_pk,
    }
    if kem == DHKEM_X25519:
        encodings["honest key, top bit set"] = honest[:-1] + bytes([honest[-1] | 0x80])
        encodings["base point, top bit set"] = (base_u + 2**255).to_bytes(32, "little")
    return encodings


@pytest.mark.parametrize(
    ("kem", "name"),
    [(kem, name) for kem in MONTGOMERY_PRIMES for name in _non_canonical_encodings(kem)],
    ids=lambda v: v.name if isinstance(v, Kem) else v,
)
def test_non_canonical_montgomery_keys_are_refused_everywhere(kem: Kem, name: str) -> None:
    """One key must not appear as two byte strings: MLS encryption keys are unique byte-wise."""
    point = _non_canonical_encodings(kem)[name]
    assert int.from_bytes(point, "little") >= MONTGOMERY_PRIMES[kem]
    suite = Hpke(kem, kem.kdf, AES_256_GCM)
    sk_r, _ = kem.generate_key_pair(DeterministicRandom("recipient"))
    with pytest.raises(InvalidKeyError):
        kem.validate_public_key(point)
    with pytest.raises(InvalidKeyError):  # as a recipient key
        suite.seal_base(point, b"", b"", b"secret", DeterministicRandom("sender"))
    with pytest.raises(InvalidKeyError):  # as an enc
        suite.open_base(point, sk_r, b"", b"", bytes(32))


@settings(max_examples=50, deadline=None)
@given(kem=st.sampled_from(list(MONTGOMERY_PRIMES)), ikm=st.binary(min_size=56, max_size=64))
def test_honest_montgomery_keys_are_canonical(kem: Kem, ikm: bytes) -> None:
    sk, pk = kem.derive_key_pair(ikm)
    assert int.from_bytes(pk, "little") < MONTGOMERY_PRIMES[kem]
    kem.validate_public_key(pk)
    suite = Hpke(kem, kem.kdf, AES_128_GCM)
    enc, ciphertext = suite.seal_base(pk, b"", b"", b"note", DeterministicRandom(ikm))
    assert int.from_bytes(enc, "little") < MONTGOMERY_PRIMES[kem]
    assert suite.open_base(enc, sk, b"", b"", ciphertext) == b"note"


def _invalid_p256_points() -> dict[str, bytes]:
    _, valid = DHKEM_P256.generate_key_pair(DeterministicRandom("p256"))
    y = int.from_bytes(valid[33:], "big")
    p = 2**256 - 2**224 + 2**192 + 2**96 - 1
    compressed = bytes([2 + (y & 1)]) + valid[1:33]
    return {
        "off-curve": valid[:-1] + bytes([valid[-1] ^ 1]),
        "compressed": compressed,
        "hybrid-prefix": b"\x06" + valid[1:],
        "infinity": b"\x00",
        "x-equals-p": b"\x04" + p.to_bytes(32, "big") + valid[33:],
        "all-ff": b"\x04" + b"\xff" * 64,
        "truncated": valid[:-1],
        "extended": valid + b"\x00",
        "empty": b"",
    }


@pytest.mark.parametrize("name", list(_invalid_p256_points()))
def test_invalid_p256_points_are_refused(name: str) -> None:
    point = _invalid_p256_points()[name]
    suite = Hpke(DHKEM_P256, HKDF_SHA256, AES_128_GCM)
    sk_r, _ = DHKEM_P256.generate_key_pair(DeterministicRandom("recipient"))
    with pytest.raises(InvalidKeyError):
        DHKEM_P256.validate_public_key(point)
    with pytest.raises(InvalidKeyError):
        suite.seal_base(point, b"", b"", b"secret", DeterministicRandom("sender"))
    with pytest.raises(InvalidKeyError):
        suite.open_base(point, sk_r, b"", b"", bytes(32))


Sealed = tuple[Hpke, HpkePrivateKey, bytes, bytes]


@pytest.fixture
def sealed() -> Sealed:
    suite = Hpke(DHKEM_X25519, HKDF_SHA256, AES_128_GCM)
    sk_r, pk_r = DHKEM_X25519.generate_key_pair(DeterministicRandom("recipient"))
    enc, ciphertext = suite.seal_base(pk_r, b"info", b"aad", b"case note", DeterministicRandom())
    return suite, sk_r, enc, ciphertext


def test_tampering_raises_invalid_tag_only(
    sealed: tuple[Hpke, HpkePrivateKey, bytes, bytes],
) -> None:
    suite, sk_r, enc, ciphertext = sealed
    assert suite.open_base(enc, sk_r, b"info", b"aad", ciphertext) == b"case note"
    flipped_tag = ciphertext[:-1] + bytes([ciphertext[-1] ^ 0x01])
    flipped_body = bytes([ciphertext[0] ^ 0x80]) + ciphertext[1:]
    other_key, _ = DHKEM_X25519.generate_key_pair(DeterministicRandom("someone else"))
    for args in (
        (enc, sk_r, b"info", b"aad", flipped_tag),
        (enc, sk_r, b"info", b"aad", flipped_body),
        (enc, sk_r, b"info", b"aad", ciphertext[:-1]),
        (enc, sk_r, b"info", b"aad", ciphertext[:15]),  # shorter than the tag
        (enc, sk_r, b"info", b"aad", b""),
        (enc, sk_r, b"info", b"other aad", ciphertext),
        (enc, sk_r, b"other info", b"aad", ciphertext),
        (enc, other_key, b"info", b"aad", ciphertext),
        (enc[:-1] + bytes([enc[-1] ^ 0x01]), sk_r, b"info", b"aad", ciphertext),
    ):
        with pytest.raises(InvalidTagError):
            suite.open_base(*args)


@pytest.mark.parametrize("kem", ALL_KEMS, ids=lambda k: k.name)
def test_wrong_lengths_are_invalid_keys(kem: Kem) -> None:
    suite = Hpke(kem, kem.kdf, AES_128_GCM)
    sk_r, pk_r = kem.generate_key_pair(DeterministicRandom())
    enc, ciphertext = suite.seal_base(pk_r, b"", b"", b"x", DeterministicRandom())
    for bad in (enc[:-1], enc + b"\x00", b""):
        with pytest.raises(InvalidKeyError):
            suite.open_base(bad, sk_r, b"", b"", ciphertext)
    for bad in (pk_r[:-1], pk_r + b"\x00"):
        with pytest.raises(InvalidKeyError):
            kem.validate_public_key(bad)
    serialized = sk_r.to_bytes()
    for bad in (serialized[:-1], serialized + b"\x00", b""):
        with pytest.raises(InvalidKeyError):
            kem.deserialize_private_key(bad)


@pytest.mark.parametrize("kem", [DHKEM_P256, DHKEM_P384, DHKEM_P521], ids=lambda k: k.name)
def test_nist_private_scalars_must_be_in_range(kem: Kem) -> None:
    curve = LIBRARY_CURVES[kem]
    order = curve.group_order
    for scalar in (0, order, order + 1, 2 ** (8 * kem.n_sk) - 1):
        with pytest.raises(InvalidKeyError):
            kem.deserialize_private_key(scalar.to_bytes(kem.n_sk, "big"))
    kem.deserialize_private_key((order - 1).to_bytes(kem.n_sk, "big"))
    kem.deserialize_private_key((1).to_bytes(kem.n_sk, "big"))


def test_montgomery_private_keys_are_any_bytes_of_the_right_length() -> None:
    for kem in (DHKEM_X25519, DHKEM_X448):
        for raw in (bytes(kem.n_sk), b"\xff" * kem.n_sk):
            assert kem.deserialize_private_key(raw).to_bytes() == raw


def test_a_key_of_another_kem_is_refused() -> None:
    suite = Hpke(DHKEM_P256, HKDF_SHA256, AES_128_GCM)
    x_key, _ = DHKEM_X25519.generate_key_pair(DeterministicRandom())
    _, pk_r = DHKEM_P256.generate_key_pair(DeterministicRandom())
    enc, ciphertext = suite.seal_base(pk_r, b"", b"", b"x", DeterministicRandom())
    with pytest.raises(InvalidKeyError):
        suite.open_base(enc, x_key, b"", b"", ciphertext)
    with pytest.raises(InvalidKeyError):
        DHKEM_P256.public_key_of(x_key)
    assert x_key != DHKEM_X448.deserialize_private_key(bytes(56))


def test_sequence_number_overflow_is_a_typed_error() -> None:
    suite = Hpke(DHKEM_X25519, HKDF_SHA256, AES_128_GCM)
    sk_r, pk_r = DHKEM_X25519.generate_key_pair(DeterministicRandom())
    enc, sender = suite.setup_base_s(pk_r, b"", DeterministicRandom())
    recipient = suite.setup_base_r(enc, sk_r, b"")
    last = (1 << 96) - 2  # the last sequence number RFC 9180 §5.2 lets a context use
    sender._seq = recipient._seq = last
    assert recipient.open(b"", sender.seal(b"", b"last")) == b"last"
    with pytest.raises(MessageLimitReachedError):
        sender.seal(b"", b"one too many")
    with pytest.raises(MessageLimitReachedError):
        recipient.open(b"", bytes(16))


def test_a_failed_open_does_not_advance_the_sequence() -> None:
    suite = Hpke(DHKEM_X25519, HKDF_SHA256, AES_128_GCM)
    sk_r, pk_r = DHKEM_X25519.generate_key_pair(DeterministicRandom())
    enc, sender = suite.setup_base_s(pk_r, b"", DeterministicRandom())
    recipient = suite.setup_base_r(enc, sk_r, b"")
    first = sender.seal(b"", b"first")
    with pytest.raises(InvalidTagError):
        recipient.open(b"", first[:-1] + bytes([first[-1] ^ 1]))
    assert recipient.open(b"", first) == b"first"
    assert recipient.open(b"", sender.seal(b"", b"second")) == b"second"


def test_export_length_is_bounded() -> None:
    suite = Hpke(DHKEM_X25519, HKDF_SHA256, AES_128_GCM)
    _, pk_r = DHKEM_X25519.generate_key_pair(DeterministicRandom())
    _, sender = suite.setup_base_s(pk_r, b"", DeterministicRandom())
    assert len(sender.export(b"ctx", 255 * 32)) == 255 * 32
    with pytest.raises(InvalidLengthError):
        sender.export(b"ctx", 255 * 32 + 1)
    for length in (-1, 0x10000, 70000):  # beyond what I2OSP(L, 2) can encode
        with pytest.raises(InvalidLengthError):
            sender.export(b"", length)


def test_nothing_secret_is_shown() -> None:
    suite = Hpke(DHKEM_X25519, HKDF_SHA256, AES_128_GCM)
    sk_r, pk_r = DHKEM_X25519.generate_key_pair(DeterministicRandom())
    _, sender = suite.setup_base_s(pk_r, b"", DeterministicRandom())
    for shown in (repr(sk_r), str(sk_r), repr(sender), repr([sk_r])):
        assert sk_r.to_bytes().hex() not in shown
        assert sender._key.hex() not in shown
        assert "redacted" in shown


class _ShortRandom:
    def random_bytes(self, n: int) -> bytes:
        return bytes(range(n - 1))


def test_a_random_source_giving_too_few_bytes_is_refused() -> None:
    suite = Hpke(DHKEM_X25519, HKDF_SHA256, AES_128_GCM)
    _, pk_r = DHKEM_X25519.generate_key_pair(DeterministicRandom())
    with pytest.raises(InvalidKeyError):
        DHKEM_X25519.generate_key_pair(_ShortRandom())
    with pytest.raises(InvalidKeyError):
        suite.seal_base(pk_r, b"", b"", b"x", _ShortRandom())
