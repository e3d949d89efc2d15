-- What the rows of the functions returning a table of their own guarantee. PostgreSQL
-- records no nullability for RETURNS TABLE columns, nor where their values come from, so
-- the generated models made each column optional and typed get_dashboard's niche_preset
-- as any text. Each function's comment now says it, after its description, in lines the
-- generator reads (vidgen-db gen models, typescript, docs; docs/models.md):
--
--   @from public.<table>: a, b   these are the table's columns of the same name, of a row
--                                the function returns (not an outer-joined one): the same
--                                type, CHECKs and nullability (niche_preset: NichePreset)
--   @not_null c, d               these columns are never NULL
--
-- Only comments change: the functions, their grants and their SECURITY are as they were.
-- tests/test_rpc_result_columns.py calls each function on the rows that could break a
-- promise (a project without jobs, nullable columns left NULL, an empty queue, each outcome
-- of recover_jobs) and validates what it returns with the models.

-- The user's projects (their own columns: projects' NOT NULL ones are never null) and the
-- latest job of each, from a LEFT JOIN: the latest_job_ columns are null for a project
-- without jobs, so they are not annotated.
COMMENT ON FUNCTION public.get_dashboard(integer, timestamptz, uuid) IS $$The signed-in user's projects, newest first, each with its latest job (the latest_job_ columns are null for a project without jobs). Keyset pages: p_before_created_at and p_before_id are the last row's created_at and id.
@from public.projects: id, title, prompt_text, niche_preset, target_minutes, transcript_mode, settings, created_at, updated_at$$;

-- One row, always: five counts (count(*) is never null); oldest_queued_at and
-- oldest_queued_seconds are null when no job waits.
COMMENT ON FUNCTION public.job_queue_stats() IS $$The queue at a glance, in one row: queued, running and cancelling jobs, expired leases, the oldest queued job (null when none waits) and the workers seen in the last 5 minutes.
@not_null queued, running, cancelling, expired_leases, workers_seen$$;

-- A row per recovered job: its id and what happened to it ('requeued', 'failed' or
-- 'cancelled'), both set before each RETURN NEXT.
COMMENT ON FUNCTION public.recover_jobs(integer) IS $$Recovers up to p_limit jobs whose worker's lease expired: one row per job, with what happened to it (requeued, failed or cancelled).
@not_null job_id, outcome$$;
