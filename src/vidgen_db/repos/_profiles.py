# Generated from src/vidgen_db/repos/_profiles_async.py by tools/async_to_sync.py: do not edit.
# Change the async source and run `python tools/async_to_sync.py`.
"""Profiles: one per user, created with the account. Users read and edit their own
(display name, avatar, notification preferences); the service role any, Stripe id included."""

from __future__ import annotations

from uuid import UUID

from .._errors import InvalidArgumentError
from ..models import Profile, ProfileUpdate
from ._base import Repository, only_fields, rows_as

__all__ = ["Profiles", "ServiceProfiles"]

#: The columns a user may change on their own profile (the table's column grant).
USER_EDITABLE = frozenset({"display_name", "avatar_url", "notification_prefs"})


class Profiles(Repository):
    """``db.profiles`` of a user client: the signed-in user's own profile."""

    def get_mine(self) -> Profile:
        """The user's profile."""
        return self._get("profiles", Profile, "id", self._me())

    def update_mine(self, changes: ProfileUpdate) -> Profile:
        """Change the user's display name, avatar or notification preferences."""
        only_fields(changes, USER_EDITABLE, "a user")
        return self._update("profiles", Profile, "id", self._me(), changes)


class ServiceProfiles(Repository):
    """``db.profiles`` of the service client: any user's profile."""

    def get(self, user_id: UUID) -> Profile:
        """The profile of ``user_id``; NotFoundError if there is none."""
        return self._get("profiles", Profile, "id", user_id)

    def update(self, user_id: UUID, changes: ProfileUpdate) -> Profile:
        """Apply the fields set in ``changes`` (the Stripe customer id included)."""
        return self._update("profiles", Profile, "id", user_id, changes)

    def find_by_stripe_customer(self, customer_id: str) -> Profile | None:
        """The profile with this Stripe customer id (unique), or None: for webhooks."""
        if not customer_id:
            raise InvalidArgumentError("customer_id must not be empty")
        response = (
            self._rest.table("profiles")
            .select("*")
            .eq("stripe_customer_id", customer_id)
            .limit(1)
            .execute()
        )
        rows = rows_as(Profile, response.data)
        return rows[0] if rows else None
