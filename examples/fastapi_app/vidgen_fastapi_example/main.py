"""The application: the clients' lifespan, the error handlers, the routes."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from vidgen_db import AsyncVidgenDB, VidgenDBError
from vidgen_fastapi_example.errors import AppError, app_error, vidgen_db_error
from vidgen_fastapi_example.routes import credits, drafts, jobs, projects
from vidgen_fastapi_example.settings import Settings


def create_app(settings: Settings | None = None) -> FastAPI:
    """The service, configured by ``settings`` (default: from the environment)."""
    settings = settings or Settings.from_env()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # One client per role for the whole process: each owns a connection pool. A key
        # of the wrong kind fails here, at start-up, not on the first request.
        url = settings.supabase_url
        anon_key = settings.supabase_anon_key.get_secret_value()
        service_key = settings.supabase_service_role_key.get_secret_value()
        async with (
            AsyncVidgenDB.anonymous(url, anon_key) as anon,
            AsyncVidgenDB.service(url, service_key) as service,
        ):
            app.state.anon = anon  # visitors' drafts, and each request's user client
            app.state.service = service  # what only the service role may do
            yield  # both pools are closed when the app stops

    app = FastAPI(
        title="vidgen API",
        lifespan=lifespan,
        exception_handlers={VidgenDBError: vidgen_db_error, AppError: app_error},
    )
    app.state.settings = settings
    for module in (drafts, projects, jobs, credits):
        app.include_router(module.router)
    return app
