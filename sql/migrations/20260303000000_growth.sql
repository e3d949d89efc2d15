-- Growth: every list pages as fast at any depth as on its first page, a job's steps and logs
-- cost the same for a user with 300,000 jobs as for one with 20, what grows without bound is
-- pruned, and the tables updated all the time have autovacuum settings for it
-- (docs/scaling.md has the measurements behind each choice).
--
-- Settings (ALTER DATABASE postgres SET ... or ALTER ROLE ... SET ...):
--   vidgen.job_log_retention_days   log lines of jobs finished longer ago than this are
--                                   deleted by prune_job_logs() (default 30)
--   vidgen.worker_retention_days    workers not seen for longer than this (and holding no
--                                   job) are deleted by prune_workers() (default 7)
--
-- On a large live database, build the new indexes first without blocking writes, one
-- statement at a time outside a transaction, e.g.
--   CREATE INDEX CONCURRENTLY IF NOT EXISTS idx_jobs_user_created
--     ON public.jobs (user_id, created_at DESC, id DESC);
-- then this migration only drops the indexes they replace.

-- 1. Keyset pagination -------------------------------------------------------------------
-- Every list is newest first by (created_at, id), and the next page after (ts, id) is asked
-- for as `created_at <= ts AND (created_at < ts OR id < last_id)`: an index range starting at
-- the cursor, when an index leads with the list's equality filters and ends with
-- (created_at DESC, id DESC). One such index per list; each replaces the index that was
-- its prefix (or served no list at all).

-- db.credits.history: a user's ledger. Nothing lists the whole ledger by time, so
-- idx_credit_created goes: besides its cost on every ledger insert, it let the planner
-- read a heavy user's first page off it, through every other user's newer entries.
CREATE INDEX IF NOT EXISTS idx_credit_user_created
  ON public.credit_ledger (user_id, created_at DESC, id DESC);
DROP INDEX IF EXISTS public.idx_credit_user;
DROP INDEX IF EXISTS public.idx_credit_created;

-- db.projects.list: everyone's (service); a user's has idx_projects_user_created already.
CREATE INDEX IF NOT EXISTS idx_projects_created_id ON public.projects (created_at DESC, id DESC);
DROP INDEX IF EXISTS public.idx_projects_created;

-- db.jobs.list: a user's, a project's (also the (project_id, user_id) foreign key and the
-- dashboard's latest job), everyone's, everyone's in one status. A user's jobs in one
-- status use the user's index and filter the status: under row level security PostgreSQL
-- keeps column statistics away from non-leakproof operators (enum equality is one), so no
-- (user_id, status, ...) index would be chosen reliably; the cost of such a page depends
-- on how common the status is among the user's jobs, not on the depth.
CREATE INDEX IF NOT EXISTS idx_jobs_user_created ON public.jobs (user_id, created_at DESC, id DESC);
DROP INDEX IF EXISTS public.idx_jobs_user;
CREATE INDEX IF NOT EXISTS idx_jobs_project_created
  ON public.jobs (project_id, user_id, created_at DESC, id DESC);
DROP INDEX IF EXISTS public.idx_jobs_project;
CREATE INDEX IF NOT EXISTS idx_jobs_created_id ON public.jobs (created_at DESC, id DESC);
DROP INDEX IF EXISTS public.idx_jobs_created;
CREATE INDEX IF NOT EXISTS idx_jobs_status_created ON public.jobs (status, created_at DESC, id DESC);
DROP INDEX IF EXISTS public.idx_jobs_status;

-- db.drafts.list: a user's, everyone's (service).
CREATE INDEX IF NOT EXISTS idx_draft_user_created
  ON public.draft_prompts (user_id, created_at DESC, id DESC);
DROP INDEX IF EXISTS public.idx_draft_user;
CREATE INDEX IF NOT EXISTS idx_draft_created ON public.draft_prompts (created_at DESC, id DESC);

-- The dashboard, same signature and result. Its keyset condition was
-- `p_before IS NULL OR (created_at, id) < (p_before...)`: a condition no index range can
-- serve once PL/pgSQL switches to a generic plan (it may after five calls), and then a
-- deep page read every project before the cursor (90 ms at depth 290,000 instead of
-- 0.2 ms). Here it is one row comparison with plain parameters, the first page starting
-- from (infinity, the largest uuid): an index range in every plan. The generic plan is
-- forced: left to choose, PostgreSQL planned every deep page afresh (0.5 ms a call
-- against 0.3 ms for the first page, which kept its cached plan).
CREATE OR REPLACE FUNCTION public.get_dashboard(
  p_limit integer DEFAULT 20,
  p_before_created_at timestamptz DEFAULT NULL,
  p_before_id uuid DEFAULT NULL
)
RETURNS TABLE (
  id uuid,
  title text,
  prompt_text text,
  niche_preset text,
  target_minutes integer,
  transcript_mode text,
  settings jsonb,
  created_at timestamptz,
  updated_at timestamptz,
  latest_job_id uuid,
  latest_job_status public.job_status,
  latest_job_progress integer,
  latest_job_created_at timestamptz
)
LANGUAGE plpgsql STABLE
SET search_path = ''
SET plan_cache_mode = force_generic_plan
AS $$
DECLARE
  v_before_created_at timestamptz := coalesce(p_before_created_at, 'infinity'::timestamptz);
  v_before_id uuid := coalesce(p_before_id, 'ffffffff-ffff-ffff-ffff-ffffffffffff'::uuid);
BEGIN
  IF p_limit IS NULL OR p_limit NOT BETWEEN 1 AND 100 THEN
    RAISE EXCEPTION USING ERRCODE = '22023',
      MESSAGE = format('p_limit must be between 1 and 100, got %s', coalesce(p_limit::text, 'null'));
  END IF;
  IF (p_before_created_at IS NULL) <> (p_before_id IS NULL) THEN
    RAISE EXCEPTION USING ERRCODE = '22023',
      MESSAGE = 'p_before_created_at and p_before_id go together: pass both or neither';
  END IF;
  RETURN QUERY
  SELECT p.id, p.title, p.prompt_text, p.niche_preset, p.target_minutes, p.transcript_mode,
         p.settings, p.created_at, p.updated_at,
         j.id, j.status, j.progress, j.created_at
    FROM public.projects AS p
    LEFT JOIN LATERAL (
      SELECT jj.id, jj.status, jj.progress, jj.created_at
        FROM public.jobs AS jj
       WHERE jj.project_id = p.id AND jj.user_id = p.user_id
       ORDER BY jj.created_at DESC, jj.id DESC
       LIMIT 1
    ) AS j ON true
   WHERE p.user_id = (SELECT auth.uid())
     AND (p.created_at, p.id) < (v_before_created_at, v_before_id)
   ORDER BY p.created_at DESC, p.id DESC
   LIMIT p_limit;
END;
$$;

REVOKE ALL ON FUNCTION public.get_dashboard(integer, timestamptz, uuid) FROM PUBLIC, anon, authenticated, service_role;
GRANT EXECUTE ON FUNCTION public.get_dashboard(integer, timestamptz, uuid) TO authenticated;

-- A job's steps, log lines and assets are visible to the job's owner. The policies said so
-- as `job_id IN (SELECT id FROM jobs WHERE user_id = auth.uid())`: PostgreSQL runs that as a
-- hashed subplan over every job of the user, and any rewording that mentions the user in a
-- query on jobs lets the planner scan the user's jobs for each row (it cannot know at plan
-- time whose jobs, so it expects a user to have few). A user with 300,000 jobs paid 120 ms
-- to read 100 lines of one job's log. owns_job looks the job up by its primary key alone,
-- then compares its owner: one index probe per row read, 0.4 ms for those 100 lines,
-- whatever the user's history. SECURITY DEFINER: it reads the job past the jobs policy,
-- and answers only whether the caller owns it.
CREATE FUNCTION vidgen_private.owns_job(p_job_id uuid) RETURNS boolean
LANGUAGE sql STABLE
SECURITY DEFINER
SET search_path = ''
AS $$
  SELECT j.user_id = (SELECT auth.uid()) FROM public.jobs AS j WHERE j.id = p_job_id
$$;

REVOKE ALL ON FUNCTION vidgen_private.owns_job(uuid) FROM PUBLIC, anon, authenticated, service_role;
GRANT EXECUTE ON FUNCTION vidgen_private.owns_job(uuid) TO authenticated;

ALTER POLICY job_steps_select ON public.job_steps USING (vidgen_private.owns_job(job_id));
ALTER POLICY job_logs_select ON public.job_logs USING (vidgen_private.owns_job(job_id));
ALTER POLICY assets_select ON public.assets USING (vidgen_private.owns_job(job_id));

-- 2. Retention ---------------------------------------------------------------------------
-- What grows without bound and is not money: job_logs (every step of every job writes
-- lines) and workers (a row per worker process started). Kept: the credit ledger (never
-- deleted), jobs, their steps (at most one row per stage) and assets (the product's
-- record of each run). Expired visitor drafts have delete_expired_drafts().

-- A retention period in days: p_days, else the setting p_setting, else p_default.
CREATE FUNCTION vidgen_private.retention_days(p_days integer, p_setting text, p_default integer)
RETURNS integer
LANGUAGE plpgsql STABLE
SET search_path = ''
AS $$
DECLARE
  v_days integer;
BEGIN
  v_days := coalesce(p_days, nullif(pg_catalog.current_setting(p_setting, true), '')::integer,
                     p_default);
  IF v_days NOT BETWEEN 0 AND 36500 THEN
    RAISE EXCEPTION USING ERRCODE = '22023',
      MESSAGE = format('a retention period is 0 to 36500 days, got %s (%s)', v_days,
                       CASE WHEN p_days IS NULL THEN p_setting ELSE 'p_older_than_days' END);
  END IF;
  RETURN v_days;
END;
$$;

REVOKE ALL ON FUNCTION vidgen_private.retention_days(integer, text, integer) FROM PUBLIC, anon, authenticated, service_role;

-- Delete up to p_max_rows log lines of jobs that finished more than p_older_than_days days
-- ago (default: vidgen.job_log_retention_days, else 30); returns how many. Call it again
-- until it returns less than p_max_rows (db.logs.prune and `vidgen-db jobs prune-logs` do).
--
-- It walks the lines in id (insertion) order from the oldest, a window of 1,000 at a time,
-- and stops at the first window whose lines are all newer than the cutoff, so it never
-- reads the recent lines. Each call is one short transaction that locks only the lines
-- it deletes, which no worker writes again: workers appending lines are never blocked.
-- Concurrent calls skip each other's lines (SKIP LOCKED) and never wait on each other.
CREATE FUNCTION public.prune_job_logs(p_older_than_days integer DEFAULT NULL,
                                      p_max_rows integer DEFAULT 10000)
RETURNS integer
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = ''
AS $$
DECLARE
  v_cutoff timestamptz;
  v_after bigint := 0;
  v_last bigint;
  v_oldest timestamptz;
  v_deleted integer := 0;
  v_rows integer;
BEGIN
  PERFORM vidgen_private.require_privileged_caller();
  IF p_max_rows IS NULL OR p_max_rows NOT BETWEEN 1 AND 1000000 THEN
    RAISE EXCEPTION USING ERRCODE = '22023',
      MESSAGE = format('p_max_rows must be from 1 to 1000000, got %s', coalesce(p_max_rows::text, 'null'));
  END IF;
  v_cutoff := pg_catalog.now() - pg_catalog.make_interval(
    days => vidgen_private.retention_days(p_older_than_days, 'vidgen.job_log_retention_days', 30));
  LOOP
    SELECT max(w.id), min(w.created_at) INTO v_last, v_oldest
      FROM (SELECT l.id, l.created_at FROM public.job_logs AS l
             WHERE l.id > v_after ORDER BY l.id LIMIT 1000) AS w;
    EXIT WHEN v_last IS NULL OR v_oldest >= v_cutoff;
    WITH doomed AS (
      SELECT l.id FROM public.job_logs AS l
        JOIN public.jobs AS j ON j.id = l.job_id
       WHERE l.id > v_after AND l.id <= v_last AND j.finished_at < v_cutoff
       ORDER BY l.id
       LIMIT p_max_rows - v_deleted
         FOR UPDATE OF l SKIP LOCKED
    )
    DELETE FROM public.job_logs AS l USING doomed AS d WHERE l.id = d.id;
    GET DIAGNOSTICS v_rows = ROW_COUNT;
    v_deleted := v_deleted + v_rows;
    v_after := v_last;
    EXIT WHEN v_deleted >= p_max_rows;
  END LOOP;
  RETURN v_deleted;
END;
$$;

-- Delete the workers not seen for more than p_older_than_days days (default:
-- vidgen.worker_retention_days, else 7) that hold no job; returns how many. A live worker
-- is seen at every claim (at least every 10 seconds while it polls), so only the rows of
-- stopped processes go; one that comes back registers again (register_worker).
CREATE FUNCTION public.prune_workers(p_older_than_days integer DEFAULT NULL)
RETURNS integer
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = ''
AS $$
DECLARE
  v_cutoff timestamptz;
  v_deleted integer;
BEGIN
  PERFORM vidgen_private.require_privileged_caller();
  v_cutoff := pg_catalog.now() - pg_catalog.make_interval(
    days => vidgen_private.retention_days(p_older_than_days, 'vidgen.worker_retention_days', 7));
  WITH doomed AS (
    SELECT w.id FROM public.workers AS w
     WHERE w.last_seen_at < v_cutoff
       AND NOT EXISTS (SELECT 1 FROM public.jobs AS j WHERE j.worker_id = w.id)
     ORDER BY w.last_seen_at
     LIMIT 10000
       FOR UPDATE SKIP LOCKED
  )
  DELETE FROM public.workers AS w USING doomed AS d WHERE w.id = d.id;
  GET DIAGNOSTICS v_deleted = ROW_COUNT;
  RETURN v_deleted;
END;
$$;

REVOKE ALL ON FUNCTION public.prune_job_logs(integer, integer) FROM PUBLIC, anon, authenticated, service_role;
REVOKE ALL ON FUNCTION public.prune_workers(integer) FROM PUBLIC, anon, authenticated, service_role;
GRANT EXECUTE ON FUNCTION public.prune_job_logs(integer, integer) TO service_role;
GRANT EXECUTE ON FUNCTION public.prune_workers(integer) TO service_role;

-- 3. Autovacuum and free space for the rows updated all the time ---------------------------
-- fillfactor leaves room on each page, so that an update of unindexed columns stays on its
-- page (a HOT update: no new index entry, and the old version is pruned on the page without
-- a vacuum). The vacuum thresholds make autovacuum visit these tables after a number of
-- changed rows rather than after a fifth of the table (the default), which on a table of
-- millions of rows means millions of dead row versions and index entries in between.
-- (Measured by benchmarks/bench_growth.py; docs/scaling.md has the figures.)
--
-- credit_balances: one row per user, updated by every credit move of that user. With full
-- pages, a grant to each of 5,000 users was 93% HOT, and 0% while a long transaction held a
-- snapshot (a report, a backup, a replica's feedback: nothing can be pruned then); at 70,
-- 100% and 44%. Existing pages get the room as they are rewritten (VACUUM FULL, pg_repack).
ALTER TABLE public.credit_balances SET (
  fillfactor = 70,
  autovacuum_vacuum_scale_factor = 0.01, autovacuum_vacuum_threshold = 1000,
  autovacuum_analyze_scale_factor = 0.05
);
-- jobs: updated tens of times each while it runs (fillfactor 80 since 20260201000000). Many
-- of these updates cannot be HOT (a lease renewal changes lease_expires_at, which
-- idx_jobs_leases indexes; a new stage changes status): 42% were, so dead index entries
-- pile up and autovacuum must come often.
ALTER TABLE public.jobs SET (
  autovacuum_vacuum_scale_factor = 0.01, autovacuum_vacuum_threshold = 1000,
  autovacuum_analyze_scale_factor = 0.02
);
-- job_steps: each step's progress is updated many times: 18% of those updates were HOT with
-- full pages, 62% at 80.
ALTER TABLE public.job_steps SET (
  fillfactor = 80,
  autovacuum_vacuum_scale_factor = 0.02, autovacuum_vacuum_threshold = 1000
);
-- job_logs: appended to, then pruned by age: vacuum after every few percent deleted (a
-- fifth of ten billion lines would be two billion dead rows), and after inserts, so that
-- freezing is spread out rather than one anti-wraparound scan of the whole table.
ALTER TABLE public.job_logs SET (
  autovacuum_vacuum_scale_factor = 0.02, autovacuum_vacuum_threshold = 10000,
  autovacuum_vacuum_insert_scale_factor = 0.05
);
