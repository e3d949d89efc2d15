"""JWTs verified with JWKs: RSA and EC keys (Supabase's asymmetric signing keys)."""

from __future__ import annotations

import base64
import dataclasses
import json
import time
from typing import Any

import httpx
import pytest

from vidgen_db.local.gateway import ApiError, GatewayConfig, create_app, decode_jwt

cryptography = pytest.importorskip("cryptography")

from cryptography.hazmat.primitives import hashes  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa  # noqa: E402
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature  # noqa: E402

from .conftest import APIKEY  # noqa: E402


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64int(n: int) -> str:
    return b64(n.to_bytes((n.bit_length() + 7) // 8, "big"))


RSA_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
EC_KEY = ec.generate_private_key(ec.SECP256R1())
RSA_JWK = {
    "kty": "RSA",
    "kid": "rsa-1",
    "n": b64int(RSA_KEY.public_key().public_numbers().n),
    "e": b64int(RSA_KEY.public_key().public_numbers().e),
}
EC_JWK = {
    "kty": "EC",
    "kid": "ec-1",
    "crv": "P-256",
    "x": b64(EC_KEY.public_key().public_numbers().x.to_bytes(32, "big")),
    "y": b64(EC_KEY.public_key().public_numbers().y.to_bytes(32, "big")),
}
JWKS = json.dumps({"keys": [RSA_JWK, EC_JWK]})


def sign(claims: dict[str, Any], alg: str, kid: str | None = None) -> str:
    header: dict[str, Any] = {"alg": alg, "typ": "JWT"}
    if kid:
        header["kid"] = kid
    signing_input = f"{b64(json.dumps(header).encode())}.{b64(json.dumps(claims).encode())}"
    if alg.startswith("RS"):
        digest = hashes.SHA384() if alg == "RS384" else hashes.SHA256()
        sig = RSA_KEY.sign(signing_input.encode(), padding.PKCS1v15(), digest)
    else:
        der = EC_KEY.sign(signing_input.encode(), ec.ECDSA(hashes.SHA256()))
        r, s = decode_dss_signature(der)
        sig = r.to_bytes(32, "big") + s.to_bytes(32, "big")
    return f"{signing_input}.{b64(sig)}"


def test_rs256_and_es256_with_a_jwk_set() -> None:
    claims = {"role": "gw_user", "exp": int(time.time()) + 60}
    assert decode_jwt(sign(claims, "RS256", "rsa-1"), JWKS)["role"] == "gw_user"
    assert decode_jwt(sign(claims, "ES256", "ec-1"), JWKS)["role"] == "gw_user"
    assert decode_jwt(sign(claims, "ES256"), json.dumps(EC_JWK))["role"] == "gw_user"


def test_wrong_kid_and_wrong_key_type() -> None:
    claims = {"role": "gw_user"}
    with pytest.raises(ApiError) as info:
        decode_jwt(sign(claims, "ES256", "rsa-1"), JWKS)  # the kid names an RSA key
    assert info.value.message == "No suitable key or wrong key type"
    with pytest.raises(ApiError) as info:
        decode_jwt(sign(claims, "RS256"), "a-plain-hmac-secret-of-some-length")
    assert info.value.message == "No suitable key or wrong key type"
    tampered = sign(claims, "RS256", "rsa-1")[:-4] + "AAAA"
    with pytest.raises(ApiError) as info:
        decode_jwt(tampered, JWKS)
    assert info.value.message == "JWT cryptographic operation failed"


def test_a_key_without_alg_serves_every_algorithm_of_its_type() -> None:
    claims = {"role": "gw_user"}
    assert decode_jwt(sign(claims, "RS384", "rsa-1"), JWKS)["role"] == "gw_user"
    pinned = json.dumps({**RSA_JWK, "alg": "RS256"})
    assert decode_jwt(sign(claims, "RS256"), pinned)["role"] == "gw_user"
    with pytest.raises(ApiError) as info:
        decode_jwt(sign(claims, "RS384"), pinned)
    assert info.value.message == "No suitable key or wrong key type"


def test_encryption_keys_and_other_kids_are_not_used() -> None:
    claims = {"role": "gw_user"}
    with pytest.raises(ApiError) as info:
        decode_jwt(sign(claims, "ES256"), json.dumps({"keys": [{**EC_JWK, "use": "enc"}]}))
    assert info.value.message == "No suitable key or wrong key type"
    with pytest.raises(ApiError) as info:
        decode_jwt(sign(claims, "ES256", "ec-2"), JWKS)
    assert info.value.message == "No suitable key or wrong key type"


def test_an_hmac_secret_as_a_jwk(jwt_secret: str) -> None:
    from vidgen_db.local import sign_jwt

    oct_jwk = {"kty": "oct", "kid": "hs-1", "k": b64(jwt_secret.encode())}
    token = sign_jwt({"role": "gw_user"}, jwt_secret)
    assert decode_jwt(token, json.dumps(oct_jwk))["role"] == "gw_user"
    assert decode_jwt(token, json.dumps({"keys": [RSA_JWK, oct_jwk]}))["role"] == "gw_user"
    with pytest.raises(ApiError) as info:
        decode_jwt(token, json.dumps({**oct_jwk, "k": b64(b"x" * 32)}))
    assert info.value.message == "JWT cryptographic operation failed"


@pytest.mark.asyncio(loop_scope="session")
async def test_gateway_with_a_jwk_set(gw_config: GatewayConfig) -> None:
    app = create_app(dataclasses.replace(gw_config, jwt_secret=JWKS))
    try:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app),
            base_url="http://gateway",
            headers={"apikey": APIKEY},
        ) as c:
            token = sign({"role": "gw_user", "exp": int(time.time()) + 60}, "ES256", "ec-1")
            r = await c.post(
                "/rest/v1/rpc/whoami", json={}, headers={"Authorization": f"Bearer {token}"}
            )
            assert r.json() == "gw_user"
    finally:
        await app.state.gateway.close()
