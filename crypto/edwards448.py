"""Ed448 public keys as points of edwards448 (RFC 8032 §5.2.2-§5.2.4), checked strictly.

OpenSSL checks an Ed448 public key only while verifying with it, and lets through keys no
honest signer has: with the key (1, 0), of order 4, R = (1, 0) and S = 0 verify for every
message; and a key A + T, T of small order, takes every signature its owner makes for it, so
one private key stands behind several byte strings. ``check_public_key`` is the Ed448
counterpart of libsodium's ``crypto_core_ed25519_is_valid_point``:

    decode (§5.2.3)   y < p (canonical), x recovered from
                      x^2 = (y^2 - 1) / (d y^2 - 1); no root, or x = 0 with x_0 = 1: refused
    small order       x = 0 or y = 0: the four points of the 4-torsion,
                      (0, 1) identity, (0, -1) of order 2, (1, 0) and (-1, 0) of order 4
    subgroup          [L]A = identity: A lies in the prime-order subgroup (cofactor 4)

The arithmetic is plain Python integers on public values only, so nothing here needs to run
in constant time. Points are projective (X : Y : Z) with x = X/Z, y = Y/Z, and the addition
and doubling formulas are those of §5.2.4, complete because d is not a square. The subgroup
test costs a few milliseconds; keys recur across messages, so its result is cached.
"""

from __future__ import annotations

from functools import lru_cache

from crypto.errors import InvalidKeyError

PUBLIC_KEY_SIZE = 57
P = 2**448 - 2**224 - 1
D = -39081 % P
ORDER = 2**446 - 13818066809895115352007386748515426880336692474882178609894547503885  # L

_SIGN_BIT = 8 * PUBLIC_KEY_SIZE - 1  # bit 455: the least significant bit of x

_Projective = tuple[int, int, int]
_IDENTITY: _Projective = (0, 1, 1)


def decode_point(data: bytes) -> tuple[int, int]:
    """The affine point (x, y) that ``data`` encodes (§5.2.3), or ``InvalidKeyError``."""
    if len(data) != PUBLIC_KEY_SIZE:
        raise InvalidKeyError(f"public key must be {PUBLIC_KEY_SIZE} bytes")
    value = int.from_bytes(data, "little")
    x_0 = value >> _SIGN_BIT
    y = value & ((1 << _SIGN_BIT) - 1)
    if y >= P:
        raise InvalidKeyError("public key is not a canonical encoding")
    u = (y * y - 1) % P
    v = (D * y * y - 1) % P  # never 0: that would make 1/d a square
    # p = 3 (mod 4), so the candidate root of u/v is u^3 v (u^5 v^3)^((p-3)/4).
    x = pow(u, 3, P) * v * pow(pow(u, 5, P) * pow(v, 3, P), (P - 3) // 4, P) % P
    if v * x * x % P != u:
        raise InvalidKeyError("public key is not a point on the curve")
    if x == 0 and x_0 == 1:
        raise InvalidKeyError("public key is not a canonical encoding")
    if x & 1 != x_0:
        x = P - x
    return x, y


def check_public_key(data: bytes) -> None:
    """Raise ``InvalidKeyError`` unless ``data`` is a canonical point of order L."""
    x, y = decode_point(data)
    if x == 0 or y == 0:
        raise InvalidKeyError("public key has small order")
    if not _has_prime_order(x, y):
        raise InvalidKeyError("public key is not in the prime-order subgroup")


@lru_cache(maxsize=4096)
def _has_prime_order(x: int, y: int) -> bool:
    return _is_identity(_multiply(ORDER, (x, y, 1)))


def _add(a: _Projective, b: _Projective) -> _Projective:
    # §5.2.4: A = Z1 Z2, B = A^2, C = X1 X2, D = Y1 Y2, E = d C D, F = B - E, G = B + E,
    # H = (X1 + Y1)(X2 + Y2); X3 = A F (H - C - D), Y3 = A G (D - C), Z3 = F G.
    x1, y1, z1 = a
    x2, y2, z2 = b
    zz = z1 * z2 % P
    zz2 = zz * zz % P
    xx = x1 * x2 % P
    yy = y1 * y2 % P
    e = D * xx * yy % P
    f = zz2 - e
    g = zz2 + e
    h = (x1 + y1) * (x2 + y2) - xx - yy
    return zz * f * h % P, zz * g * (yy - xx) % P, f * g % P


def _double(a: _Projective) -> _Projective:
    # §5.2.4: B = (X1 + Y1)^2, C = X1^2, D = Y1^2, E = C + D, H = Z1^2, J = E - 2H;
    # X3 = (B - E) J, Y3 = E (C - D), Z3 = E J.
    x1, y1, z1 = a
    xx = x1 * x1 % P
    yy = y1 * y1 % P
    e = xx + yy
    j = e - 2 * (z1 * z1)
    return ((x1 + y1) * (x1 + y1) - e) * j % P, e * (xx - yy) % P, e * j % P


def _multiply(k: int, point: _Projective) -> _Projective:
    result = _IDENTITY
    for bit in bin(k)[2:]:
        result = _double(result)
        if bit == "1":
            result = _add(result, point)
    return result


def _is_identity(point: _Projective) -> bool:
    x, y, z = point
    return x % P == 0 and (y - z) % P == 0
