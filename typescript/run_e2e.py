#!/usr/bin/env python3
"""Run the frontend's TypeScript suite: type-check it, then run it against a local stack.

1. ``npm ci`` when ``node_modules`` is missing (or ``--install``);
2. ``tsc --strict --noEmit``: the typed queries compile and every ``@ts-expect-error``
   case in ``test/type-errors.ts`` is an error;
3. start a :class:`vidgen_db.testing.LocalStack` (an embedded PostgreSQL, or a throwaway
   database on ``--database-url``), sign up two users and give each a project and a queued
   job through the service role, the worker's way;
4. build and run ``test/e2e.test.ts`` with node's test runner: supabase-js with the anon
   key and a user's access token, as the Next.js frontend uses it.

The URL, the keys and the tokens (made at run time, never stored) reach node through the
environment. Run it with the project's Python: ``.venv/bin/python typescript/run_e2e.py``.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def npm(*args: str, env: dict[str, str] | None = None) -> None:
    """Run ``npm args`` in this folder; exit with its status when it fails."""
    executable = shutil.which("npm")
    if executable is None:
        sys.exit("npm is not installed")
    print(f"+ npm {' '.join(args)}", flush=True)
    result = subprocess.run([executable, *args], cwd=HERE, env=env)
    if result.returncode != 0:
        sys.exit(result.returncode)


def seeded_environment(stack: object) -> dict[str, str]:
    """Two signed-up users, each with a project and a queued job; their ids and tokens."""
    from vidgen_db.models import JobInsert, NichePreset, ProjectInsert
    from vidgen_db.testing import LocalStack

    assert isinstance(stack, LocalStack)
    env = {"SUPABASE_URL": stack.url, "SUPABASE_ANON_KEY": stack.anon_key}
    with stack.service_client() as worker:
        for name in ("ada", "bob"):
            user_id, token = stack.create_user(f"{name}@example.com", name=name.title())
            project = worker.projects.create(
                ProjectInsert(
                    user_id=user_id,
                    title=f"{name.title()}'s first video",
                    prompt_text="How Roman roads shaped an empire",
                    niche_preset=NichePreset.HISTORY,
                )
            )
            job = worker.jobs.create(JobInsert(project_id=project.id, user_id=user_id))
            worker.jobs.queue(job.id, 5)
            prefix = f"VIDGEN_E2E_{name.upper()}"
            env[f"{prefix}_ID"] = str(user_id)
            env[f"{prefix}_TOKEN"] = token
            env[f"{prefix}_PROJECT_ID"] = str(project.id)
            env[f"{prefix}_JOB_ID"] = str(job.id)
    return env


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--database-url",
        default=os.environ.get("DATABASE_URL"),
        help="superuser URL of a PostgreSQL 15+ server for a throwaway database "
        "(default: DATABASE_URL, else an embedded PostgreSQL)",
    )
    parser.add_argument("--install", action="store_true", help="run npm ci even if installed")
    args = parser.parse_args()

    if args.install or not (HERE / "node_modules").is_dir():
        npm("ci", "--no-audit", "--no-fund")
    npm("run", "typecheck")

    from vidgen_db.testing import LocalStack

    with LocalStack(server_url=args.database_url) as stack:
        env = dict(os.environ)
        env.update(seeded_environment(stack))
        npm("test", env=env)
    return 0


if __name__ == "__main__":
    sys.exit(main())
