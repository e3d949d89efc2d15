"""HTTP contract of db.profiles (user: their own; service: anyone's, by id or Stripe id)."""

from __future__ import annotations

# The shared contract tests, run here over this module's CASES and INVALID tables.
from repo_contract_tests import (
    test_async,  # noqa: F401
    test_refused_before_any_request_async,  # noqa: F401
    test_refused_before_any_request_sync,  # noqa: F401
    test_sync,  # noqa: F401
)
from test_repos_clients import (
    NOT_FOUND,
    OTHER_USER,
    USER,
    Case,
    Invalid,
    profile_row,
)
from vidgen_db import NotFoundError
from vidgen_db.models import NotificationPrefs, Profile, ProfileUpdate

OBJECT = "application/vnd.pgrst.object+json"

CASES = [
    Case(
        "profiles.get_mine",
        "user",
        lambda db: db.profiles.get_mine(),
        "GET",
        "/profiles",
        params={"select": "*", "id": f"eq.{USER}"},
        accept=OBJECT,
        response=profile_row(),
        check=lambda p: (
            isinstance(p, Profile) and p.id == USER and p.notification_prefs.job_failed is True
        ),
    ),
    Case(
        "profiles.get_mine",
        "user",
        lambda db: db.profiles.get_mine(),
        "GET",
        "/profiles",
        params={"select": "*", "id": f"eq.{USER}"},
        accept=OBJECT,
        status=NOT_FOUND[0],
        response=NOT_FOUND[1],
        raises=NotFoundError,
        check=lambda e: e.code == "PGRST116",
        label="missing",
    ),
    Case(
        "profiles.update_mine",
        "user",
        lambda db: db.profiles.update_mine(
            ProfileUpdate(
                display_name="Ada L.",
                notification_prefs=NotificationPrefs(job_complete=False),
            )
        ),
        "PATCH",
        "/profiles",
        params={"id": f"eq.{USER}"},
        prefer={"return=representation"},
        body={
            "display_name": "Ada L.",
            "notification_prefs": {"job_complete": False, "job_failed": True},
        },
        response=[
            profile_row(
                display_name="Ada L.",
                notification_prefs={"job_complete": False, "job_failed": True},
            )
        ],
        check=lambda p: p.display_name == "Ada L." and p.notification_prefs.job_complete is False,
    ),
    Case(
        "profiles.update_mine",
        "user",
        lambda db: db.profiles.update_mine(ProfileUpdate(avatar_url=None)),
        "PATCH",
        "/profiles",
        params={"id": f"eq.{USER}"},
        prefer={"return=representation"},
        body={"avatar_url": None},
        response=[],
        raises=NotFoundError,
        label="no-row",
    ),
    Case(
        "profiles.get",
        "service",
        lambda db: db.profiles.get(OTHER_USER),
        "GET",
        "/profiles",
        params={"select": "*", "id": f"eq.{OTHER_USER}"},
        accept=OBJECT,
        response=profile_row(id=str(OTHER_USER)),
        check=lambda p: p.id == OTHER_USER,
    ),
    Case(
        "profiles.update",
        "service",
        lambda db: db.profiles.update(OTHER_USER, ProfileUpdate(stripe_customer_id="cus_Q1x9")),
        "PATCH",
        "/profiles",
        params={"id": f"eq.{OTHER_USER}"},
        prefer={"return=representation"},
        body={"stripe_customer_id": "cus_Q1x9"},
        response=[profile_row(id=str(OTHER_USER), stripe_customer_id="cus_Q1x9")],
        check=lambda p: p.stripe_customer_id == "cus_Q1x9",
    ),
    Case(
        "profiles.find_by_stripe_customer",
        "service",
        lambda db: db.profiles.find_by_stripe_customer("cus_Q1x9"),
        "GET",
        "/profiles",
        params={"select": "*", "stripe_customer_id": "eq.cus_Q1x9", "limit": "1"},
        response=[profile_row(stripe_customer_id="cus_Q1x9")],
        check=lambda p: isinstance(p, Profile) and p.id == USER,
    ),
    Case(
        "profiles.find_by_stripe_customer",
        "service",
        lambda db: db.profiles.find_by_stripe_customer("cus_unknown"),
        "GET",
        "/profiles",
        params={"select": "*", "stripe_customer_id": "eq.cus_unknown", "limit": "1"},
        response=[],
        check=lambda p: p is None,
        label="none",
    ),
]

INVALID = [
    Invalid(
        "profiles.update_mine",
        "user",
        lambda db: db.profiles.update_mine(ProfileUpdate(stripe_customer_id="cus_x")),
        "may not set stripe_customer_id",
    ),
    Invalid(
        "profiles.update_mine",
        "user",
        lambda db: db.profiles.update_mine(ProfileUpdate()),
        "no changes",
        "empty",
    ),
    Invalid(
        "profiles.find_by_stripe_customer",
        "service",
        lambda db: db.profiles.find_by_stripe_customer(""),
        "customer_id",
    ),
]
