"""Who a request is: Supabase's ``apikey`` check, the JWT's role and claims, the schema."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request

from ._config import GatewayConfig
from ._errors import ApiError
from ._jwt import decode_jwt

__all__ = ["authenticate", "bearer_token", "check_apikey", "schema_for"]


def check_apikey(config: GatewayConfig, request: Request) -> None:
    """Kong's 401 when the ``apikey`` header (or url param) is missing or not accepted."""
    if not config.require_apikey:
        return
    key = request.headers.get("apikey") or request.query_params.get("apikey")
    if not key:
        message = "No API key found in request"
        hint = "No `apikey` request header or url param was found."
    elif config.api_keys is not None and key not in config.api_keys:
        message = "Invalid API key"
        hint = "Double check your Supabase `anon` or `service_role` API key."
    else:
        return
    raise ApiError(401, "", message, raw_body={"message": message, "hint": hint})


def _claim(claims: dict[str, Any], path: str) -> Any:
    value: Any = claims
    for part in path.split("."):
        if not isinstance(value, dict) or part not in value:
            return None
        value = value[part]
    return value


def _anonymous_disabled() -> ApiError:
    return ApiError(
        401, "PGRST302", "Anonymous access is disabled", None, None, {"WWW-Authenticate": "Bearer"}
    )


def bearer_token(request: Request) -> str | None:
    """The token of an ``Authorization: Bearer`` header, if any."""
    header = request.headers.get("authorization")
    if header is None:
        return None
    scheme, _, value = header.strip().partition(" ")
    return value.strip() if scheme.lower() == "bearer" else None


def authenticate(config: GatewayConfig, request: Request) -> tuple[str, dict[str, Any], bool]:
    """(role, claims, authenticated): the verified token's role claim, else the anon role."""
    token = bearer_token(request)
    if token is None:
        if config.anon_role is None:
            raise _anonymous_disabled()
        return config.anon_role, {"role": config.anon_role}, False
    if not config.jwt_secret:
        raise ApiError(500, "PGRST300", "Server lacks JWT secret")
    claims = decode_jwt(token, config.jwt_secret, audience=config.jwt_aud)
    role = _claim(claims, config.jwt_role_claim_key)
    if role is None:
        if config.anon_role is None:
            raise _anonymous_disabled()
        role = config.anon_role
    return str(role), claims, True


def schema_for(config: GatewayConfig, request: Request, method: str) -> str:
    """The schema profile: ``Accept-Profile`` (reads) or ``Content-Profile`` (writes)."""
    header = "accept-profile" if method in ("GET", "HEAD") else "content-profile"
    wanted = request.headers.get(header)
    if wanted is None:
        return config.schemas[0]
    if wanted not in config.schemas:
        raise ApiError(
            406,
            "PGRST106",
            f"Invalid schema: {wanted}",
            None,
            "Only the following schemas are exposed: " + ", ".join(config.schemas),
        )
    return wanted
