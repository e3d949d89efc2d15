"""HS256 signing and verification helpers."""

from __future__ import annotations

import secrets

import pytest

from vidgen_db.local import sign_jwt
from vidgen_db.local.gateway import ApiError, decode_jwt


def test_jwt_round_trip(jwt_secret: str) -> None:
    token = sign_jwt({"role": "r", "exp": 4102444800, "aud": "authenticated"}, jwt_secret)
    assert decode_jwt(token, jwt_secret, audience="authenticated")["role"] == "r"
    with pytest.raises(ApiError) as info:
        decode_jwt(token, jwt_secret, audience="other")
    assert info.value.code == "PGRST303"
    assert str(info.value) == "JWT not in audience"


SECRET = secrets.token_urlsafe(32)


def test_tampered_payload_is_rejected() -> None:
    token = sign_jwt({"role": "gw_user"}, SECRET)
    header, _payload, signature = token.split(".")
    forged = sign_jwt({"role": "postgres"}, SECRET).split(".")[1]
    with pytest.raises(ApiError) as info:
        decode_jwt(f"{header}.{forged}.{signature}", SECRET)
    assert info.value.code == "PGRST301"
    assert info.value.status == 401


def test_wrong_algorithm_is_rejected() -> None:
    import base64
    import json

    header = base64.urlsafe_b64encode(json.dumps({"alg": "none"}).encode()).rstrip(b"=").decode()
    body = base64.urlsafe_b64encode(b'{"role":"x"}').rstrip(b"=").decode()
    with pytest.raises(ApiError) as info:
        decode_jwt(f"{header}.{body}.", SECRET)
    assert info.value.message == "Wrong or unsupported encoding algorithm"


def test_nbf_and_iat_in_the_future() -> None:
    token = sign_jwt({"nbf": 2000}, SECRET)
    with pytest.raises(ApiError, match="JWT not yet valid"):
        decode_jwt(token, SECRET, now=1000)
    token = sign_jwt({"iat": 2000}, SECRET)
    with pytest.raises(ApiError, match="JWT issued at future"):
        decode_jwt(token, SECRET, now=1000)
