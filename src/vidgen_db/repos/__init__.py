"""The repositories, reached as attributes of a client (``db.projects``, ``db.credits``...).

Each exists async (``AsyncProjects``) and sync (``Projects``, generated from the async
source). They take and return the models of :mod:`vidgen_db.models`.
"""

from ._pagination import Cursor, Page
from ._projects import Projects
from ._projects_async import AsyncProjects

__all__ = ["AsyncProjects", "Cursor", "Page", "Projects"]
