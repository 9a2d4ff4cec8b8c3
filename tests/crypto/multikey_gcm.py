"""AES-GCM ciphertexts that authenticate under two keys: the attack key commitment stops.

GCM's tag is ``E_K(J0) ⊕ GHASH_H(A, C)`` with ``H = E_K(0^128)``, and GHASH is a polynomial
in ``H`` whose coefficients are the blocks of ``A`` and ``C``. Whoever knows two keys can
pick one ciphertext block so that both tags agree: a linear equation in GF(2^128) (Dodis,
Grubbs, Ristenpart, Woodage, CRYPTO 2018; Len, Grubbs, Ristenpart, USENIX Security 2021).
"""

from __future__ import annotations

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

BLOCK = 16
_R = 0xE1 << 120


def _gf_mul(x: int, y: int) -> int:
    """Multiplication in GCM's GF(2^128) (NIST SP 800-38D, Algorithm 1)."""
    z, v = 0, y
    for i in range(128):
        if (x >> (127 - i)) & 1:
            z ^= v
        v = (v >> 1) ^ _R if v & 1 else v >> 1
    return z


def _gf_pow(x: int, exponent: int) -> int:
    result = 1 << 127  # the field's one: the polynomial 1, in GCM's reflected bit order
    while exponent:
        if exponent & 1:
            result = _gf_mul(result, x)
        x = _gf_mul(x, x)
        exponent >>= 1
    return result


def _gf_inverse(x: int) -> int:
    return _gf_pow(x, (1 << 128) - 2)


def _aes_block(key: bytes, block: bytes) -> int:
    encryptor = Cipher(algorithms.AES(key), modes.ECB()).encryptor()
    return int.from_bytes(encryptor.update(block) + encryptor.finalize(), "big")


def _blocks(data: bytes) -> list[int]:
    padded = data + bytes(-len(data) % BLOCK)
    return [int.from_bytes(padded[i : i + BLOCK], "big") for i in range(0, len(padded), BLOCK)]


def _ghash(h: int, blocks: list[int]) -> int:
    y = 0
    for block in blocks:
        y = _gf_mul(y ^ block, h)
    return y


def two_key_ciphertext(
    key1: bytes, nonce1: bytes, key2: bytes, nonce2: bytes, aad: bytes, template: bytes
) -> bytes:
    """``ciphertext ‖ tag``, as long as ``template``, valid AES-GCM under both (key, nonce).

    ``template`` (a multiple of 16 bytes, at least one block) is changed in its first block
    only; 12-byte nonces.
    """
    assert len(template) % BLOCK == 0 and template, "template must be whole blocks"
    assert len(nonce1) == len(nonce2) == 12
    c_blocks = _blocks(template)
    c_blocks[0] = 0
    length_block = ((len(aad) * 8) << 64) | (len(template) * 8)
    sequence = [*_blocks(aad), *c_blocks, length_block]
    free = len(_blocks(aad))  # position of the free block in the GHASH input
    exponent = len(sequence) - free  # the free block is multiplied by H^exponent

    h1, h2 = _aes_block(key1, bytes(BLOCK)), _aes_block(key2, bytes(BLOCK))
    mask1 = _aes_block(key1, nonce1 + b"\x00\x00\x00\x01")
    mask2 = _aes_block(key2, nonce2 + b"\x00\x00\x00\x01")
    rest = mask1 ^ mask2 ^ _ghash(h1, sequence) ^ _ghash(h2, sequence)
    coefficient = _gf_pow(h1, exponent) ^ _gf_pow(h2, exponent)
    c_blocks[0] = _gf_mul(rest, _gf_inverse(coefficient))
    sequence[free] = c_blocks[0]

    tag = mask1 ^ _ghash(h1, sequence)
    ciphertext = b"".join(block.to_bytes(BLOCK, "big") for block in c_blocks)
    return ciphertext + tag.to_bytes(BLOCK, "big")
