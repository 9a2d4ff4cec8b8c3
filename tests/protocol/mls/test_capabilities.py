from crypto.suites import SUPPORTED_SUITE_IDS, cipher_suite
from protocol.mls.capabilities import supported_capabilities
from protocol.mls.constants import CredentialType, ProtocolVersion
from protocol.mls.credentials import BasicCredential
from protocol.mls.key_packages import create_key_package, default_lifetime, validate_key_package
from tests.helpers import DeterministicRandom


def test_every_implemented_suite_and_only_mls10_is_advertised() -> None:
    caps = supported_capabilities()
    assert caps.cipher_suites == SUPPORTED_SUITE_IDS
    assert caps.versions == (ProtocolVersion.MLS10,)
    assert caps.credentials == (CredentialType.BASIC,)


def test_a_key_package_with_these_capabilities_is_valid_in_every_suite() -> None:
    now = 1_790_000_000
    for suite_id in SUPPORTED_SUITE_IDS:
        suite = cipher_suite(suite_id)
        rng = DeterministicRandom(f"caps {suite_id}")
        created = create_key_package(
            suite,
            suite.signature.generate(rng),
            BasicCredential(identity=b"device"),
            supported_capabilities(),
            default_lifetime(now),
            (),
            (),
            rng,
        )
        validate_key_package(suite, created.key_package, now=now)
        lifetime = created.key_package.leaf_node.lifetime
        assert lifetime is not None
        assert lifetime.not_before < now  # a Welcome processed in the same second is fine
        assert lifetime.not_after - now == 84 * 24 * 3600
