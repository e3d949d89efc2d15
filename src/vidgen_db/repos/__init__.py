"""The repositories, reached as attributes of a client (``db.projects``, ``db.credits``...).

Each exists async (``AsyncProjects``) and sync (``Projects``, generated from the async
source). They take and return the models of :mod:`vidgen_db.models`. Operations only the
service role may perform live in separate classes (``ServiceJobs``, ``ServiceCredits``...),
so a user client does not have them at all.
"""

from ._assets import Assets, ServiceAssets
from ._assets_async import AsyncAssets, AsyncServiceAssets
from ._credits import Credits, ServiceCredits
from ._credits_async import AsyncCredits, AsyncServiceCredits
from ._dashboard import Dashboard
from ._dashboard_async import AsyncDashboard
from ._drafts import AnonDrafts, ServiceDrafts, UserDrafts
from ._drafts_async import AsyncAnonDrafts, AsyncServiceDrafts, AsyncUserDrafts
from ._job_steps import JobSteps, ServiceJobSteps
from ._job_steps_async import AsyncJobSteps, AsyncServiceJobSteps
from ._jobs import Jobs, ServiceJobs
from ._jobs_async import AsyncJobs, AsyncServiceJobs
from ._logs import JobLogs, ServiceJobLogs
from ._logs_async import AsyncJobLogs, AsyncServiceJobLogs
from ._pagination import Cursor, Page
from ._profiles import Profiles, ServiceProfiles
from ._profiles_async import AsyncProfiles, AsyncServiceProfiles
from ._projects import Projects
from ._projects_async import AsyncProjects
from ._workers import ServiceWorkers
from ._workers_async import AsyncServiceWorkers

__all__ = [
    "AnonDrafts",
    "Assets",
    "AsyncAnonDrafts",
    "AsyncAssets",
    "AsyncCredits",
    "AsyncDashboard",
    "AsyncJobLogs",
    "AsyncJobSteps",
    "AsyncJobs",
    "AsyncProfiles",
    "AsyncProjects",
    "AsyncServiceAssets",
    "AsyncServiceCredits",
    "AsyncServiceDrafts",
    "AsyncServiceJobLogs",
    "AsyncServiceJobSteps",
    "AsyncServiceJobs",
    "AsyncServiceProfiles",
    "AsyncServiceWorkers",
    "AsyncUserDrafts",
    "Credits",
    "Cursor",
    "Dashboard",
    "JobLogs",
    "JobSteps",
    "Jobs",
    "Page",
    "Profiles",
    "Projects",
    "ServiceAssets",
    "ServiceCredits",
    "ServiceDrafts",
    "ServiceJobLogs",
    "ServiceJobSteps",
    "ServiceJobs",
    "ServiceProfiles",
    "ServiceWorkers",
    "UserDrafts",
]
