"""Export vidgen's migrations as a Supabase CLI project (``vidgen-db export supabase DIR``).

``DIR/supabase/migrations/`` gets the migration files under the same names and with the
same bytes, so ``supabase db push`` / ``supabase migration up`` and ``vidgen-db migrate``
record the same ``(version, name, statements)`` rows in
``supabase_migrations.schema_migrations`` and each tool sees the other's work as applied.
``seed.sql`` is the development seed; ``config.toml`` has the settings the product relies
on. The compatibility bootstrap is never exported: a Supabase project has the real roles
and auth schema.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from .._errors import MigrationError
from ._resources import seed_file
from ._runner import load_migrations

__all__ = ["SupabaseExport", "export_supabase_project"]


@dataclass
class SupabaseExport:
    """What an export wrote, and the migration files it found there that are not vidgen's
    (left in place: the Supabase CLI would apply them too)."""

    written: list[Path] = field(default_factory=list)
    foreign: list[Path] = field(default_factory=list)


_CONFIG = """\
# A Supabase CLI project for the vidgen database, written by `vidgen-db export supabase`.
# supabase/migrations/ holds vidgen's migrations, byte for byte: `supabase db push` and
# `vidgen-db migrate` keep the same history table, so either tool can take over.
# Reference: https://supabase.com/docs/guides/local-development/cli/config (settings left
# out keep the CLI's defaults).
project_id = "{project_id}"

[api]
enabled = true
port = 54321
# Only public is served: vidgen's helpers live in vidgen_private, which must never be an
# API schema (its functions are not meant to be called over HTTP).
schemas = ["public"]
extra_search_path = ["public", "extensions"]
# The dashboard pages through at most 100 rows; 1000 bounds any other read.
max_rows = 1000

[db]
port = 54322
shadow_port = 54320
# Must match the remote project's major version (SHOW server_version). vidgen's
# migrations need PostgreSQL 15 or later.
major_version = 17

[db.migrations]
enabled = true

[db.seed]
# Development data only (two users, their projects, a finished job, a visitor's draft).
enabled = true
sql_paths = ["./seed.sql"]

[realtime]
# Users follow their jobs live: the migrations add public.jobs and public.job_steps to the
# supabase_realtime publication (Realtime applies row level security).
enabled = true

[studio]
enabled = true
port = 54323
api_url = "http://127.0.0.1"

[storage]
enabled = true
file_size_limit = "50MiB"

[auth]
enabled = true
# The Next.js frontend.
site_url = "http://127.0.0.1:3000"
additional_redirect_urls = ["http://127.0.0.1:3000/auth/callback"]
jwt_expiry = 3600
enable_refresh_token_rotation = true
refresh_token_reuse_interval = 10
# Sign-ups insert into auth.users, where the on_auth_user_created trigger creates the
# profile (display_name from the sign-up's user metadata "name") and grants the welcome
# credits.
enable_signup = true
# Off: an anonymous sign-in is a row in auth.users too, so the trigger would grant every
# anonymous session the welcome credits. Visitors use the anon key (draft prompts) instead.
enable_anonymous_sign_ins = false
enable_manual_linking = false
minimum_password_length = 8

[auth.email]
# Email sign-ups are on by default.
double_confirm_changes = true
# Off locally for quick sign-ups; turn it on in production. The trigger runs at sign-up
# either way (before the address is confirmed).
enable_confirmations = false
secure_password_change = false
max_frequency = "1s"
otp_length = 6
otp_expiry = 3600
"""

_GITIGNORE = """\
# The Supabase CLI's local state
.branches
.temp
"""


def export_supabase_project(
    target: Path,
    *,
    migrations_dir: Path | None = None,
    force: bool = False,
    project_id: str = "vidgen",
) -> SupabaseExport:
    """Write ``target/supabase/`` (migrations, seed.sql, config.toml, .gitignore).

    Refuses a ``target`` that exists and is not empty unless ``force`` (then the files of
    the same names are overwritten and nothing else is touched).
    """
    if target.exists() and not target.is_dir():
        raise MigrationError(f"{target} is not a folder")
    if not force and target.is_dir() and any(target.iterdir()):
        raise MigrationError(
            f"{target} is not empty: pass --force to write the Supabase project into it "
            "(files of the same names are overwritten)"
        )
    if not project_id.replace("-", "").replace("_", "").isalnum():
        raise MigrationError(f"bad project id {project_id!r}: use letters, digits, - and _")
    migrations = load_migrations(migrations_dir)
    root = target / "supabase"
    folder = root / "migrations"
    folder.mkdir(parents=True, exist_ok=True)
    result = SupabaseExport()
    ours = {m.filename for m in migrations}
    result.foreign = sorted(p for p in folder.glob("*.sql") if p.name not in ours)
    for migration in migrations:
        result.written.append(_write(folder / migration.filename, migration.path.read_bytes()))
    seed = seed_file()
    if seed.is_file():
        result.written.append(_write(root / "seed.sql", seed.read_bytes()))
    config = _CONFIG.format(project_id=project_id)
    result.written.append(_write(root / "config.toml", config.encode("utf-8")))
    result.written.append(_write(root / ".gitignore", _GITIGNORE.encode("utf-8")))
    return result


def _write(path: Path, content: bytes) -> Path:
    path.write_bytes(content)
    return path
