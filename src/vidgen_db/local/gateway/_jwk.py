"""Signature checks for JSON Web Keys: HMAC (``oct``) here, RSA and EC via ``cryptography``.

PostgREST's ``jwt-secret`` may be a plain secret, a JWK or a JWK set; asymmetric keys
(Supabase's newer signing keys) need the optional ``cryptography`` package.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any

__all__ = ["ALGORITHMS", "keys_from_secret", "suitable", "verify_signature"]

_HASHES = {"256": hashlib.sha256, "384": hashlib.sha384, "512": hashlib.sha512}
ALGORITHMS = frozenset(f"{kind}{bits}" for kind in ("HS", "RS", "ES") for bits in _HASHES)
_KTY = {"HS": "oct", "RS": "RSA", "ES": "EC"}
_CURVE_BITS = {"P-256": 256, "P-384": 384, "P-521": 521}


def _b64decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _int(text: str) -> int:
    return int.from_bytes(_b64decode(text), "big")


def keys_from_secret(secret: str) -> list[dict[str, Any]]:
    """The configured secret as JWKs: a JWK set, a single JWK, or a plain HMAC secret."""
    text = secret.strip()
    if text.startswith("{"):
        try:
            value = json.loads(text)
        except ValueError:
            value = None
        if isinstance(value, dict) and isinstance(value.get("keys"), list):
            return [k for k in value["keys"] if isinstance(k, dict)]
        if isinstance(value, dict) and "kty" in value:
            return [value]
    return [{"kty": "oct", "k": base64.urlsafe_b64encode(secret.encode()).decode()}]


def suitable(key: dict[str, Any], alg: str, kid: str | None) -> bool:
    """Whether a JWK may verify a token signed with ``alg`` (and ``kid``, when given)."""
    if key.get("kty") != _KTY.get(alg[:2]):
        return False
    if key.get("alg") not in (None, alg):
        return False
    if key.get("use") not in (None, "sig"):
        return False
    return kid is None or key.get("kid") in (None, kid)


def verify_signature(key: dict[str, Any], alg: str, signing_input: bytes, signature: bytes) -> bool:
    """Check one signature with one key (assumed suitable)."""
    digest = _HASHES[alg[2:]]
    if alg.startswith("HS"):
        expected = hmac.new(_b64decode(str(key.get("k", ""))), signing_input, digest).digest()
        return hmac.compare_digest(expected, signature)
    return _verify_asymmetric(key, alg, signing_input, signature)


def _verify_asymmetric(
    key: dict[str, Any], alg: str, signing_input: bytes, signature: bytes
) -> bool:
    try:
        from cryptography.exceptions import InvalidSignature
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
        from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise RuntimeError(
            "RS*/ES* JWTs need the 'cryptography' package; install it or use an HS256 secret"
        ) from exc
    hash_alg: hashes.HashAlgorithm = {
        "256": hashes.SHA256(),
        "384": hashes.SHA384(),
        "512": hashes.SHA512(),
    }[alg[2:]]
    try:
        if alg.startswith("RS"):
            rsa_key = rsa.RSAPublicNumbers(_int(key["e"]), _int(key["n"])).public_key()
            rsa_key.verify(signature, signing_input, padding.PKCS1v15(), hash_alg)
            return True
        curve: ec.EllipticCurve = {
            "P-256": ec.SECP256R1(),
            "P-384": ec.SECP384R1(),
            "P-521": ec.SECP521R1(),
        }[str(key.get("crv"))]
        size = (_CURVE_BITS[str(key.get("crv"))] + 7) // 8
        if len(signature) != 2 * size:
            return False
        r = int.from_bytes(signature[:size], "big")
        s = int.from_bytes(signature[size:], "big")
        ec_key = ec.EllipticCurvePublicNumbers(_int(key["x"]), _int(key["y"]), curve).public_key()
        ec_key.verify(encode_dss_signature(r, s), signing_input, ec.ECDSA(hash_alg))
        return True
    except (InvalidSignature, KeyError, ValueError):
        return False
