-- A fleet of workers on the database: workers claim queued jobs, hold them under a lease
-- with a fencing token, renew it with every call (or a heartbeat), and a job whose worker
-- died is recovered: queued again with its reservation and finished steps, or failed and
-- refunded when its attempts are spent. Owners may cancel their jobs; a project with an
-- active job cannot be deleted from under its worker.
--
-- A job is held while jobs.worker_id is set (with lease_token, lease_expires_at). Claiming
-- does not change its status: a held QUEUED job has been claimed, and its first step moves
-- it into the pipeline. A held job goes back to QUEUED only by recovery (its lease
-- expired) or by release (its worker gives it back), never by a direct update: only these
-- functions can clear worker_id.
--
-- Every worker-side call (start/update/complete/fail a step, log, add an asset, heartbeat,
-- finish, fail) takes the lease token p_lease:
--   * with a token: the job must be held under exactly that token, else VG302 (nothing
--     changes: a worker that lost its lease can never touch the job again); the lease is
--     renewed to its full length; on a job whose owner asked to cancel it, VG303 (only
--     fail_job goes through, and records the cancellation);
--   * without one: allowed on a job no worker holds (jobs run without claiming, and
--     operators); on a held job refused with VG302, except fail_job, with which an
--     operator (the service role, deliberately) can always fail a job.
--
-- Settings (ALTER DATABASE postgres SET ... or ALTER ROLE service_role SET ...):
--   vidgen.max_running_jobs_per_user   held jobs per user at once (default 2); claim_jobs'
--                                      p_max_running_per_user overrides it per call.
--
-- Errors: VG301 unknown worker, VG302 lease lost (or missing on a held job),
--         VG303 the job was cancelled, VG304 a project with an active job cannot be deleted.

CREATE TABLE public.workers (
  -- Chosen by the worker (so registering is safe to retry).
  id uuid PRIMARY KEY,
  name text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 200),
  started_at timestamptz NOT NULL DEFAULT now(),
  last_seen_at timestamptz NOT NULL DEFAULT now()
);

ALTER TABLE public.workers ENABLE ROW LEVEL SECURITY;
REVOKE ALL ON TABLE public.workers FROM PUBLIC, anon, authenticated, service_role;
-- Read-only for the service role; written by register_worker and claim_jobs.
GRANT SELECT ON TABLE public.workers TO service_role;

-- Fencing tokens: strictly increasing, one per claim.
CREATE SEQUENCE vidgen_private.lease_tokens AS bigint;
REVOKE ALL ON SEQUENCE vidgen_private.lease_tokens FROM PUBLIC, anon, authenticated, service_role;

ALTER TABLE public.jobs
  -- When the job was queued: the queue is first in, first out.
  ADD COLUMN queued_at timestamptz,
  -- Claims so far (a release gives its claim back); the job fails at max_attempts.
  ADD COLUMN attempt integer NOT NULL DEFAULT 0 CHECK (attempt >= 0),
  ADD COLUMN max_attempts integer NOT NULL DEFAULT 3 CHECK (max_attempts BETWEEN 1 AND 100),
  -- The lease: who holds the job, under which token, until when, renewed by how much.
  ADD COLUMN worker_id uuid REFERENCES public.workers (id),
  ADD COLUMN lease_token bigint,
  ADD COLUMN lease_expires_at timestamptz,
  ADD COLUMN lease_seconds integer CHECK (lease_seconds BETWEEN 1 AND 86400),
  -- The claim request that took the job, so a retried claim returns the same jobs.
  ADD COLUMN claim_id uuid,
  ADD COLUMN heartbeat_at timestamptz,
  -- The owner asked to cancel the job while a worker held it.
  ADD COLUMN cancel_requested_at timestamptz,
  -- A held job has a token and an expiry, and is queued or in a work stage.
  ADD CONSTRAINT jobs_lease_token_check CHECK ((worker_id IS NULL) = (lease_token IS NULL)),
  ADD CONSTRAINT jobs_lease_expiry_check CHECK ((worker_id IS NULL) = (lease_expires_at IS NULL)),
  ADD CONSTRAINT jobs_held_status_check
    CHECK (worker_id IS NULL OR status NOT IN ('PENDING', 'READY', 'FAILED'));

UPDATE public.jobs SET queued_at = coalesce(started_at, created_at) WHERE status <> 'PENDING';

-- The queue in claim order: only unclaimed QUEUED jobs, so finished jobs cost nothing.
CREATE INDEX idx_jobs_queue ON public.jobs (queued_at, id)
  WHERE status = 'QUEUED' AND worker_id IS NULL;
-- Held jobs (a few per worker): by lease expiry for recovery, by user for the per-user
-- cap, by worker and claim for retried claims (and the worker_id foreign key).
CREATE INDEX idx_jobs_leases ON public.jobs (lease_expires_at) WHERE worker_id IS NOT NULL;
CREATE INDEX idx_jobs_held_by_user ON public.jobs (user_id) WHERE worker_id IS NOT NULL;
CREATE INDEX idx_jobs_worker ON public.jobs (worker_id, claim_id) WHERE worker_id IS NOT NULL;

-- The pipeline's rules (20260203000000_job_lifecycle.sql), plus: a work stage goes back to
-- QUEUED only when the job is being un-held (recovery or release), its credits reserved.
CREATE OR REPLACE FUNCTION vidgen_private.guard_job_status() RETURNS trigger
LANGUAGE plpgsql
SET search_path = ''
AS $$
DECLARE
  v_ok boolean;
BEGIN
  IF NEW.status = OLD.status THEN
    RETURN NEW;
  END IF;
  v_ok := CASE
    WHEN OLD.status IN ('READY', 'FAILED') THEN false
    WHEN NEW.status = 'FAILED' THEN NEW.credit_state <> 'reserved'
    WHEN OLD.status = 'PENDING' THEN NEW.status = 'QUEUED' AND NEW.credit_state = 'reserved'
    WHEN NEW.status = 'READY' THEN NEW.credit_state = 'settled'
    WHEN NEW.status = 'QUEUED' THEN OLD.status BETWEEN 'SCRIPTING' AND 'PACKAGING'
      AND OLD.worker_id IS NOT NULL AND NEW.worker_id IS NULL AND NEW.credit_state = 'reserved'
    ELSE NEW.status > OLD.status
  END;
  IF NOT v_ok THEN
    RAISE EXCEPTION USING ERRCODE = 'VG201',
      MESSAGE = format('illegal job transition %s -> %s for job %s', OLD.status, NEW.status, OLD.id),
      DETAIL = format('credit_state is %s', NEW.credit_state),
      HINT = CASE
        WHEN OLD.status IN ('READY', 'FAILED') THEN 'READY and FAILED are final'
        WHEN NEW.status = 'QUEUED' AND OLD.status <> 'PENDING'
          THEN 'a job goes back to the queue only through recover_jobs() or release_job()'
        WHEN NEW.status = 'QUEUED' THEN 'queue a job with queue_job(), which reserves its credits'
        WHEN NEW.status = 'READY' THEN 'finish a job with finish_job(), which settles its credits'
        WHEN NEW.status = 'FAILED' THEN 'fail a job with fail_job(), which refunds its credits'
        ELSE 'jobs only move forward through the pipeline' END;
  END IF;
  -- (No helper function calls here: the trigger runs with the caller's privileges.)
  IF NEW.status BETWEEN 'SCRIPTING' AND 'READY' THEN
    NEW.started_at := coalesce(NEW.started_at, pg_catalog.now());
  END IF;
  IF NEW.status IN ('READY', 'FAILED') THEN
    NEW.finished_at := coalesce(NEW.finished_at, pg_catalog.now());
  END IF;
  IF NEW.status = 'READY' THEN
    NEW.progress := 100;
  END IF;
  RETURN NEW;
END;
$$;

-- The lease rules of a worker-side call (see the top of this file) on a job the caller
-- has locked; renews the lease when p_lease is given.
CREATE FUNCTION vidgen_private.use_lease(p_job public.jobs, p_lease bigint,
                                         p_cancelled_ok boolean DEFAULT false)
RETURNS void
LANGUAGE plpgsql
SET search_path = ''
AS $$
BEGIN
  IF p_lease IS NULL THEN
    IF p_job.worker_id IS NOT NULL THEN
      RAISE EXCEPTION USING ERRCODE = 'VG302',
        MESSAGE = format('job %s is held by worker %s: pass its lease token', p_job.id, p_job.worker_id),
        HINT = 'worker-side calls on a claimed job carry the lease token claim_jobs() returned';
    END IF;
    RETURN;
  END IF;
  IF p_job.lease_token IS DISTINCT FROM p_lease THEN
    RAISE EXCEPTION USING ERRCODE = 'VG302',
      MESSAGE = format('lease %s on job %s is lost: %s', p_lease, p_job.id,
                       CASE WHEN p_job.worker_id IS NULL
                            THEN 'the job is no longer held (its lease expired, or it was released or finished)'
                            ELSE 'another lease holds the job now' END),
      HINT = 'stop working on this job: another worker has it, or will';
  END IF;
  IF p_job.cancel_requested_at IS NOT NULL AND NOT p_cancelled_ok THEN
    RAISE EXCEPTION USING ERRCODE = 'VG303',
      MESSAGE = format('job %s was cancelled by its owner: stop working on it', p_job.id),
      HINT = 'fail_job() with the lease records the cancellation and refunds the credits';
  END IF;
  UPDATE public.jobs
     SET lease_expires_at = pg_catalog.now() + pg_catalog.make_interval(secs => lease_seconds),
         heartbeat_at = pg_catalog.now()
   WHERE id = p_job.id;
END;
$$;

REVOKE ALL ON FUNCTION vidgen_private.use_lease(public.jobs, bigint, boolean) FROM PUBLIC, anon, authenticated, service_role;

-- Register (or re-register) a worker; the id is the worker's own, so a retry after a lost
-- response registers nothing twice.
CREATE FUNCTION public.register_worker(p_worker_id uuid, p_name text)
RETURNS public.workers
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = ''
AS $$
DECLARE
  v_worker public.workers;
BEGIN
  PERFORM vidgen_private.require_privileged_caller();
  IF p_worker_id IS NULL THEN
    RAISE EXCEPTION USING ERRCODE = '22004', MESSAGE = 'p_worker_id must not be null';
  END IF;
  IF p_name IS NULL OR char_length(p_name) NOT BETWEEN 1 AND 200 THEN
    RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = 'p_name must be 1 to 200 characters';
  END IF;
  INSERT INTO public.workers AS w (id, name) VALUES (p_worker_id, p_name)
  ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, last_seen_at = pg_catalog.now()
  RETURNING * INTO v_worker;
  RETURN v_worker;
END;
$$;

-- Deal with held jobs whose lease expired, each exactly once (SKIP LOCKED, and the
-- condition checked again under the lock): a cancelled job is FAILED (CANCELLED) and
-- refunded; a job with attempts left goes back to QUEUED, keeping its reservation and its
-- finished steps; any other is FAILED (LEASE_EXPIRED) and refunded.
CREATE FUNCTION vidgen_private.recover_expired(p_limit integer)
RETURNS TABLE (job_id uuid, outcome text)
LANGUAGE plpgsql
SET search_path = ''
AS $$
DECLARE
  v_job public.jobs;
BEGIN
  FOR v_job IN
    SELECT * FROM public.jobs AS j
     WHERE j.worker_id IS NOT NULL AND j.lease_expires_at < pg_catalog.now()
     ORDER BY j.lease_expires_at
     LIMIT p_limit
       FOR UPDATE SKIP LOCKED
  LOOP
    job_id := v_job.id;
    IF v_job.cancel_requested_at IS NOT NULL THEN
      PERFORM vidgen_private.end_job_failed(v_job, 'CANCELLED', 'cancelled by its owner', NULL);
      outcome := 'cancelled';
    ELSIF v_job.attempt < v_job.max_attempts THEN
      UPDATE public.jobs
         SET status = 'QUEUED', worker_id = NULL, lease_token = NULL, lease_expires_at = NULL,
             claim_id = NULL,
             status_message = format('Requeued: the worker stopped responding (attempt %s of %s)',
                                     v_job.attempt, v_job.max_attempts)
       WHERE id = v_job.id;
      outcome := 'requeued';
    ELSE
      PERFORM vidgen_private.end_job_failed(v_job, 'LEASE_EXPIRED',
        format('the worker stopped responding on each of the %s attempts', v_job.attempt), NULL);
      outcome := 'failed';
    END IF;
    RETURN NEXT;
  END LOOP;
END;
$$;

-- FAILED with p_error_code, the step (p_failed_step, else the current stage) marked
-- failed, the reservation refunded, the hold ended: the one way a job fails. p_job is the
-- job's row as locked by the caller.
CREATE FUNCTION vidgen_private.end_job_failed(p_job public.jobs, p_error_code text,
                                              p_error_message text, p_failed_step text)
RETURNS public.jobs
LANGUAGE plpgsql
SET search_path = ''
AS $$
DECLARE
  v_step text;
  v_job public.jobs;
BEGIN
  v_step := coalesce(p_failed_step,
                     CASE WHEN vidgen_private.is_work_stage(p_job.status) THEN p_job.status::text END);
  IF v_step IS NOT NULL THEN
    PERFORM vidgen_private.step_stage(v_step);
    UPDATE public.job_steps
       SET state = 'failed', error_message = p_error_message, finished_at = pg_catalog.now()
     WHERE job_id = p_job.id AND step_name = v_step AND state <> 'succeeded';
  END IF;
  -- The refund, exactly once: the job row is locked and its credit_state moves on.
  -- (Not refund_job_credits(): a user cancelling their own job may not call that.)
  IF p_job.credit_state = 'reserved' THEN
    PERFORM vidgen_private.lock_balance(p_job.user_id);
    INSERT INTO public.credit_ledger (user_id, type, amount, job_id, note)
    VALUES (p_job.user_id, 'refund', p_job.cost_credits_reserved, p_job.id,
            CASE WHEN p_error_code = 'CANCELLED' THEN 'Refund for cancelled job'
                 ELSE 'Refund for failed job' END);
    UPDATE public.jobs SET credit_state = 'refunded', cost_credits_final = 0 WHERE id = p_job.id;
  END IF;
  UPDATE public.jobs
     SET status = 'FAILED', failed_step = v_step, error_code = p_error_code,
         error_message = p_error_message,
         status_message = CASE WHEN p_error_code = 'CANCELLED' THEN 'Cancelled' ELSE 'Failed' END,
         worker_id = NULL, lease_token = NULL, lease_expires_at = NULL, claim_id = NULL
   WHERE id = p_job.id
  RETURNING * INTO v_job;
  RETURN v_job;
END;
$$;

REVOKE ALL ON FUNCTION vidgen_private.recover_expired(integer) FROM PUBLIC, anon, authenticated, service_role;
REVOKE ALL ON FUNCTION vidgen_private.end_job_failed(public.jobs, text, text, text) FROM PUBLIC, anon, authenticated, service_role;

-- Recover expired leases now (claim_jobs also does it, so no scheduler is required; on
-- Supabase, pg_cron can run it every minute: docs/usage.md). Returns what happened.
CREATE FUNCTION public.recover_jobs(p_limit integer DEFAULT 100)
RETURNS TABLE (job_id uuid, outcome text)
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = ''
AS $$
BEGIN
  PERFORM vidgen_private.require_privileged_caller();
  IF p_limit IS NULL OR p_limit NOT BETWEEN 1 AND 10000 THEN
    RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = 'p_limit must be from 1 to 10000';
  END IF;
  RETURN QUERY SELECT r.job_id, r.outcome FROM vidgen_private.recover_expired(p_limit) AS r;
END;
$$;

-- Claim up to p_limit queued jobs for worker p_worker_id, oldest queued first, skipping
-- jobs other workers are claiming (FOR UPDATE SKIP LOCKED: claimers never wait on each
-- other nor get the same job) and users who already have their share of held jobs
-- (p_max_running_per_user, else the vidgen.max_running_jobs_per_user setting, else 2).
-- Each claimed job gets a new fencing token (lease_token), a lease of p_lease_seconds
-- and its next attempt. p_claim_id names the request: repeating it returns the jobs it
-- claimed (a retry after a lost response). Expired leases are recovered first.
CREATE FUNCTION public.claim_jobs(p_worker_id uuid, p_limit integer DEFAULT 1,
                                  p_lease_seconds integer DEFAULT 120,
                                  p_claim_id uuid DEFAULT NULL,
                                  p_max_running_per_user integer DEFAULT NULL)
RETURNS SETOF public.jobs
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = ''
AS $$
DECLARE
  v_seen timestamptz;
  v_expired boolean;
  v_repeated boolean;
  v_cap integer;
  v_claim uuid := coalesce(p_claim_id, gen_random_uuid());
  v_skip uuid[] := '{}';
  v_job public.jobs;
  v_id uuid;
  v_user uuid;
  v_locked boolean;
  v_claimed integer := 0;
BEGIN
  IF pg_catalog.current_setting('role', true) IS DISTINCT FROM 'service_role' THEN
    PERFORM vidgen_private.require_privileged_caller();
  END IF;
  IF p_limit IS NULL OR p_limit NOT BETWEEN 1 AND 100 THEN
    RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = 'p_limit must be from 1 to 100';
  END IF;
  IF p_lease_seconds IS NULL OR p_lease_seconds NOT BETWEEN 1 AND 86400 THEN
    RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = 'p_lease_seconds must be from 1 to 86400';
  END IF;
  -- The worker, a repeat of this request, expired leases: one statement for the three.
  SELECT w.last_seen_at,
         EXISTS (SELECT 1 FROM public.jobs AS j
                  WHERE j.worker_id IS NOT NULL AND j.lease_expires_at < pg_catalog.now()),
         p_claim_id IS NOT NULL AND EXISTS (
           SELECT 1 FROM public.jobs AS j
            WHERE j.worker_id = p_worker_id AND j.claim_id = p_claim_id)
    INTO v_seen, v_expired, v_repeated
    FROM public.workers AS w WHERE w.id = p_worker_id;
  IF NOT FOUND THEN
    RAISE EXCEPTION USING ERRCODE = 'VG301',
      MESSAGE = format('unknown worker %s', coalesce(p_worker_id::text, 'null')),
      HINT = 'register the worker with register_worker() before it claims jobs';
  END IF;
  IF v_seen < pg_catalog.now() - interval '10 seconds' THEN
    UPDATE public.workers SET last_seen_at = pg_catalog.now() WHERE id = p_worker_id;
  END IF;
  IF v_repeated THEN
    -- A retry of a claim whose response was lost: the jobs it took, again.
    RETURN QUERY SELECT * FROM public.jobs AS j
                  WHERE j.worker_id = p_worker_id AND j.claim_id = p_claim_id;
    RETURN;
  END IF;
  IF v_expired THEN
    PERFORM vidgen_private.recover_expired(10);
  END IF;
  v_cap := coalesce(p_max_running_per_user,
                    nullif(pg_catalog.current_setting('vidgen.max_running_jobs_per_user', true), '')::integer,
                    2);
  WHILE v_claimed < p_limit LOOP
    -- The oldest job nobody else is claiming, and, for the per-user cap, the right to
    -- claim for its user: one claimer per user at a time (the others skip the user's
    -- jobs for now). The UPDATE below, a later statement, counts with a snapshot taken
    -- after that lock, so it sees every committed claim of this user: the cap holds.
    SELECT pick.id, pick.user_id,
           pg_catalog.pg_try_advisory_xact_lock(1986356838, pg_catalog.hashtext(pick.user_id::text))
      INTO v_id, v_user, v_locked
      FROM (SELECT j.id, j.user_id FROM public.jobs AS j
             WHERE j.status = 'QUEUED' AND j.worker_id IS NULL AND j.user_id <> ALL (v_skip)
             ORDER BY j.queued_at, j.id
             LIMIT 1
               FOR UPDATE SKIP LOCKED) AS pick;
    EXIT WHEN NOT FOUND;
    IF NOT v_locked THEN
      v_skip := v_skip || v_user;
      CONTINUE;
    END IF;
    UPDATE public.jobs
       SET worker_id = p_worker_id, claim_id = v_claim,
           lease_token = nextval('vidgen_private.lease_tokens'),
           lease_seconds = p_lease_seconds,
           lease_expires_at = pg_catalog.now() + pg_catalog.make_interval(secs => p_lease_seconds),
           heartbeat_at = pg_catalog.now(), attempt = attempt + 1
     WHERE id = v_id
       AND (SELECT count(*) FROM public.jobs AS r
             WHERE r.user_id = v_user AND r.worker_id IS NOT NULL) < v_cap
    RETURNING * INTO v_job;
    IF NOT FOUND THEN
      v_skip := v_skip || v_user;
      CONTINUE;
    END IF;
    RETURN NEXT v_job;
    v_claimed := v_claimed + 1;
  END LOOP;
END;
$$;

-- Renew a held job's lease (a long step in progress). VG302 / VG303 as for every
-- worker-side call, so this is also how a worker learns that it lost the job or that its
-- owner cancelled it.
CREATE FUNCTION public.heartbeat_job(p_job_id uuid, p_lease bigint)
RETURNS public.jobs
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = ''
AS $$
DECLARE
  v_job public.jobs;
BEGIN
  PERFORM vidgen_private.require_privileged_caller();
  IF p_lease IS NULL THEN
    RAISE EXCEPTION USING ERRCODE = '22004', MESSAGE = 'p_lease must not be null';
  END IF;
  v_job := vidgen_private.lock_job(p_job_id);
  PERFORM vidgen_private.use_lease(v_job, p_lease);
  SELECT * INTO v_job FROM public.jobs AS j WHERE j.id = p_job_id;
  RETURN v_job;
END;
$$;

-- Give a held job back (a worker shutting down): QUEUED again, no attempt charged, its
-- reservation and finished steps kept. A job its owner cancelled is failed (CANCELLED) and
-- refunded instead.
CREATE FUNCTION public.release_job(p_job_id uuid, p_lease bigint)
RETURNS public.jobs
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = ''
AS $$
DECLARE
  v_job public.jobs;
BEGIN
  PERFORM vidgen_private.require_privileged_caller();
  IF p_lease IS NULL THEN
    RAISE EXCEPTION USING ERRCODE = '22004', MESSAGE = 'p_lease must not be null';
  END IF;
  v_job := vidgen_private.lock_job(p_job_id);
  PERFORM vidgen_private.use_lease(v_job, p_lease, true);
  IF v_job.cancel_requested_at IS NOT NULL THEN
    RETURN vidgen_private.end_job_failed(v_job, 'CANCELLED', 'cancelled by its owner', NULL);
  END IF;
  UPDATE public.jobs
     SET status = 'QUEUED', worker_id = NULL, lease_token = NULL, lease_expires_at = NULL,
         claim_id = NULL, attempt = greatest(attempt - 1, 0),
         status_message = 'Requeued: its worker shut down'
   WHERE id = p_job_id
  RETURNING * INTO v_job;
  RETURN v_job;
END;
$$;

-- Cancel a job: its owner (a signed-in user) or the service role. PENDING or QUEUED (not
-- yet claimed): FAILED (CANCELLED) and refunded at once. Held by a worker: marked; the
-- worker's next call raises VG303 and its failure records the cancellation (or recovery
-- does, if the worker is gone). FAILED: returned unchanged. READY: VG201. Another user's
-- job is unknown (VG002), as if it did not exist.
CREATE FUNCTION vidgen_private.cancel_job(p_job_id uuid)
RETURNS public.jobs
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = ''
AS $$
DECLARE
  v_job public.jobs;
BEGIN
  IF p_job_id IS NULL THEN
    RAISE EXCEPTION USING ERRCODE = '22004', MESSAGE = 'p_job_id must not be null';
  END IF;
  SELECT * INTO v_job FROM public.jobs AS j WHERE j.id = p_job_id FOR UPDATE;
  IF NOT FOUND OR (NOT vidgen_private.caller_is_privileged()
                   AND v_job.user_id IS DISTINCT FROM (SELECT auth.uid())) THEN
    RAISE EXCEPTION USING ERRCODE = 'VG002', MESSAGE = format('unknown job %s', p_job_id);
  END IF;
  CASE
    WHEN v_job.status = 'FAILED' THEN
      RETURN v_job;
    WHEN v_job.status = 'READY' THEN
      RAISE EXCEPTION USING ERRCODE = 'VG201',
        MESSAGE = format('illegal job transition READY -> FAILED for job %s', p_job_id),
        HINT = 'the job is finished: there is nothing to cancel';
    WHEN v_job.worker_id IS NULL THEN
      RETURN vidgen_private.end_job_failed(v_job, 'CANCELLED', 'cancelled by its owner', NULL);
    ELSE
      UPDATE public.jobs
         SET cancel_requested_at = coalesce(cancel_requested_at, pg_catalog.now()),
             status_message = 'Cancelling'
       WHERE id = p_job_id
      RETURNING * INTO v_job;
      RETURN v_job;
  END CASE;
END;
$$;

REVOKE ALL ON FUNCTION vidgen_private.cancel_job(uuid) FROM PUBLIC, anon, authenticated, service_role;
GRANT EXECUTE ON FUNCTION vidgen_private.cancel_job(uuid) TO authenticated, service_role;

-- The data API's entry point: SECURITY INVOKER (Supabase's linter flags a SECURITY
-- DEFINER function that signed-in users can execute in an exposed schema); the work,
-- and the ownership check, are in vidgen_private.cancel_job.
CREATE FUNCTION public.cancel_job(p_job_id uuid)
RETURNS public.jobs
LANGUAGE sql
SECURITY INVOKER
SET search_path = ''
AS $$
  SELECT * FROM vidgen_private.cancel_job(p_job_id)
$$;

-- The queue at a glance (vidgen-db jobs stats).
CREATE FUNCTION public.job_queue_stats()
RETURNS TABLE (queued bigint, running bigint, cancelling bigint, expired_leases bigint,
               oldest_queued_at timestamptz, oldest_queued_seconds double precision,
               workers_seen bigint)
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = ''
AS $$
BEGIN
  PERFORM vidgen_private.require_privileged_caller();
  RETURN QUERY
  SELECT (SELECT count(*) FROM public.jobs AS j WHERE j.status = 'QUEUED' AND j.worker_id IS NULL),
         (SELECT count(*) FROM public.jobs AS j WHERE j.worker_id IS NOT NULL),
         (SELECT count(*) FROM public.jobs AS j
           WHERE j.worker_id IS NOT NULL AND j.cancel_requested_at IS NOT NULL),
         (SELECT count(*) FROM public.jobs AS j
           WHERE j.worker_id IS NOT NULL AND j.lease_expires_at < pg_catalog.now()),
         q.oldest,
         extract(epoch FROM pg_catalog.now() - q.oldest)::double precision,
         (SELECT count(*) FROM public.workers AS w
           WHERE w.last_seen_at > pg_catalog.now() - interval '5 minutes')
    FROM (SELECT min(j.queued_at) AS oldest FROM public.jobs AS j
           WHERE j.status = 'QUEUED' AND j.worker_id IS NULL) AS q;
END;
$$;

-- queue_job records when the job joined the queue.
CREATE OR REPLACE FUNCTION public.queue_job(p_job_id uuid, p_credits integer)
RETURNS public.jobs
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = ''
AS $$
DECLARE
  v_job public.jobs;
BEGIN
  PERFORM vidgen_private.require_privileged_caller();
  PERFORM vidgen_private.require_positive('p_credits', p_credits);
  v_job := vidgen_private.lock_job(p_job_id);
  IF v_job.status = 'QUEUED' AND v_job.credit_state = 'reserved'
     AND v_job.cost_credits_reserved = p_credits THEN
    RETURN v_job;
  END IF;
  IF v_job.status <> 'PENDING' THEN
    RAISE EXCEPTION USING ERRCODE = 'VG201',
      MESSAGE = format('illegal job transition %s -> QUEUED for job %s', v_job.status, p_job_id),
      HINT = 'only a PENDING job can be queued';
  END IF;
  IF NOT public.reserve_credits(v_job.user_id, p_job_id, p_credits) THEN
    RAISE EXCEPTION USING ERRCODE = 'VG101',
      MESSAGE = format('insufficient credits: job %s needs %s, the balance is %s',
                       p_job_id, p_credits, public.get_credit_balance(v_job.user_id));
  END IF;
  UPDATE public.jobs SET status = 'QUEUED', status_message = 'Queued', queued_at = pg_catalog.now()
   WHERE id = p_job_id RETURNING * INTO v_job;
  RETURN v_job;
END;
$$;

-- The worker-side functions again, with the lease (p_lease) as their last argument.
DROP FUNCTION public.start_job_step(uuid, text, text);
DROP FUNCTION public.update_job_step(uuid, text, integer, text);
DROP FUNCTION public.complete_job_step(uuid, text, jsonb, text);
DROP FUNCTION public.finish_job(uuid, text, integer, jsonb);
DROP FUNCTION public.fail_job(uuid, text, text, text);
DROP FUNCTION public.append_job_log(uuid, text, text, text, jsonb);

-- Start a step: its row (created or restarted) is 'started', and the job moves to the
-- step's stage if it is not there yet.
CREATE FUNCTION public.start_job_step(p_job_id uuid, p_step_name text, p_message text DEFAULT NULL,
                                      p_lease bigint DEFAULT NULL)
RETURNS public.job_steps
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = ''
AS $$
DECLARE
  v_stage public.job_status;
  v_job public.jobs;
  v_step public.job_steps;
BEGIN
  PERFORM vidgen_private.require_privileged_caller();
  v_stage := vidgen_private.step_stage(p_step_name);
  v_job := vidgen_private.lock_job(p_job_id);
  PERFORM vidgen_private.use_lease(v_job, p_lease);
  IF v_job.status <> v_stage THEN
    UPDATE public.jobs
       SET status = v_stage,
           progress = vidgen_private.job_progress(v_stage, 0),
           status_message = coalesce(p_message, status_message)
     WHERE id = p_job_id;
  END IF;
  INSERT INTO public.job_steps AS s (job_id, step_name, step_order, state, progress_pct,
                                     status_message, started_at)
  VALUES (p_job_id, p_step_name, array_position(enum_range(NULL::public.job_status), v_stage) - 2,
          'started', 0, p_message, pg_catalog.now())
  ON CONFLICT (job_id, step_name) DO UPDATE
    SET state = 'started', progress_pct = 0, status_message = EXCLUDED.status_message,
        error_message = NULL, started_at = coalesce(s.started_at, EXCLUDED.started_at),
        finished_at = NULL
  RETURNING * INTO v_step;
  RETURN v_step;
END;
$$;

-- Progress of a started step (0..100) and, from it, of the job.
CREATE FUNCTION public.update_job_step(p_job_id uuid, p_step_name text, p_progress integer,
                                       p_message text DEFAULT NULL, p_lease bigint DEFAULT NULL)
RETURNS public.job_steps
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = ''
AS $$
DECLARE
  v_job public.jobs;
  v_step public.job_steps;
BEGIN
  PERFORM vidgen_private.require_privileged_caller();
  IF p_progress IS NULL OR p_progress NOT BETWEEN 0 AND 100 THEN
    RAISE EXCEPTION USING ERRCODE = '22023',
      MESSAGE = format('p_progress must be between 0 and 100, got %s', coalesce(p_progress::text, 'null'));
  END IF;
  v_job := vidgen_private.lock_job(p_job_id);
  PERFORM vidgen_private.use_lease(v_job, p_lease);
  PERFORM vidgen_private.lock_started_step(p_job_id, p_step_name);
  UPDATE public.job_steps
     SET progress_pct = p_progress, status_message = coalesce(p_message, status_message)
   WHERE job_id = p_job_id AND step_name = p_step_name
  RETURNING * INTO v_step;
  IF v_job.status = p_step_name::public.job_status THEN
    UPDATE public.jobs
       SET progress = vidgen_private.job_progress(status, p_progress),
           status_message = coalesce(p_message, status_message)
     WHERE id = p_job_id;
  END IF;
  RETURN v_step;
END;
$$;

-- A started step succeeded. Repeating it on a succeeded step returns the step unchanged
-- (a retry after a lost response).
CREATE FUNCTION public.complete_job_step(p_job_id uuid, p_step_name text,
                                         p_artifacts jsonb DEFAULT NULL, p_message text DEFAULT NULL,
                                         p_lease bigint DEFAULT NULL)
RETURNS public.job_steps
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = ''
AS $$
DECLARE
  v_job public.jobs;
  v_step public.job_steps;
BEGIN
  PERFORM vidgen_private.require_privileged_caller();
  v_job := vidgen_private.lock_job(p_job_id);
  PERFORM vidgen_private.use_lease(v_job, p_lease);
  v_step := vidgen_private.lock_started_step(p_job_id, p_step_name, true);
  IF v_step.state = 'succeeded' THEN
    RETURN v_step;
  END IF;
  UPDATE public.job_steps
     SET state = 'succeeded', progress_pct = 100, finished_at = pg_catalog.now(),
         status_message = coalesce(p_message, status_message),
         artifacts_json = coalesce(p_artifacts, artifacts_json)
   WHERE job_id = p_job_id AND step_name = p_step_name
  RETURNING * INTO v_step;
  IF v_job.status = p_step_name::public.job_status THEN
    UPDATE public.jobs SET progress = vidgen_private.job_progress(status, 100) WHERE id = p_job_id;
  END IF;
  RETURN v_step;
END;
$$;

-- READY: settle the credits (p_final_credits, by default what was reserved), record the
-- output, end the hold. Repeating it on a READY job returns the job unchanged.
CREATE FUNCTION public.finish_job(p_job_id uuid, p_output_url text,
                                  p_final_credits integer DEFAULT NULL, p_manifest jsonb DEFAULT NULL,
                                  p_lease bigint DEFAULT NULL)
RETURNS public.jobs
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = ''
AS $$
DECLARE
  v_job public.jobs;
BEGIN
  PERFORM vidgen_private.require_privileged_caller();
  v_job := vidgen_private.lock_job(p_job_id);
  IF v_job.status = 'READY' THEN
    RETURN v_job;
  END IF;
  PERFORM vidgen_private.use_lease(v_job, p_lease);
  IF v_job.status IN ('PENDING', 'QUEUED', 'FAILED') THEN
    RAISE EXCEPTION USING ERRCODE = 'VG201',
      MESSAGE = format('illegal job transition %s -> READY for job %s', v_job.status, p_job_id),
      HINT = 'only a job that has started work can be finished';
  END IF;
  IF p_output_url IS NULL OR p_output_url = '' THEN
    RAISE EXCEPTION USING ERRCODE = '22004', MESSAGE = 'p_output_url must not be empty';
  END IF;
  PERFORM public.settle_job_credits(p_job_id, coalesce(p_final_credits, v_job.cost_credits_reserved));
  UPDATE public.jobs
     SET status = 'READY', output_url = p_output_url, status_message = 'Ready',
         manifest_json = coalesce(p_manifest, manifest_json),
         worker_id = NULL, lease_token = NULL, lease_expires_at = NULL, claim_id = NULL
   WHERE id = p_job_id
  RETURNING * INTO v_job;
  RETURN v_job;
END;
$$;

-- FAILED: record which step failed and why, mark that step failed, refund the
-- reservation, end the hold. Repeating it on a FAILED job returns the job unchanged. A job
-- its owner cancelled is recorded as CANCELLED whatever the error given. With p_lease, a
-- worker that lost the job cannot fail it (VG302); without, an operator can fail any job.
CREATE FUNCTION public.fail_job(p_job_id uuid, p_error_code text, p_error_message text,
                                p_failed_step text DEFAULT NULL, p_lease bigint DEFAULT NULL)
RETURNS public.jobs
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = ''
AS $$
DECLARE
  v_job public.jobs;
BEGIN
  PERFORM vidgen_private.require_privileged_caller();
  v_job := vidgen_private.lock_job(p_job_id);
  IF v_job.status = 'FAILED' THEN
    RETURN v_job;
  END IF;
  IF v_job.status = 'READY' THEN
    RAISE EXCEPTION USING ERRCODE = 'VG201',
      MESSAGE = format('illegal job transition READY -> FAILED for job %s', p_job_id),
      HINT = 'READY and FAILED are final';
  END IF;
  IF p_lease IS NOT NULL THEN
    PERFORM vidgen_private.use_lease(v_job, p_lease, true);
  END IF;
  IF v_job.cancel_requested_at IS NOT NULL THEN
    RETURN vidgen_private.end_job_failed(v_job, 'CANCELLED', 'cancelled by its owner', p_failed_step);
  END IF;
  RETURN vidgen_private.end_job_failed(v_job, p_error_code, p_error_message, p_failed_step);
END;
$$;

-- Append a log line to a job; returns its id.
CREATE FUNCTION public.append_job_log(p_job_id uuid, p_message text, p_level text DEFAULT 'info',
                                      p_step_name text DEFAULT NULL, p_data jsonb DEFAULT NULL,
                                      p_lease bigint DEFAULT NULL)
RETURNS bigint
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = ''
AS $$
DECLARE
  v_job public.jobs;
  v_id bigint;
BEGIN
  PERFORM vidgen_private.require_privileged_caller();
  IF p_message IS NULL THEN
    RAISE EXCEPTION USING ERRCODE = '22004', MESSAGE = 'p_message must not be null';
  END IF;
  IF p_lease IS NULL THEN
    -- The common case without a lease reads the job without locking it.
    SELECT * INTO v_job FROM public.jobs AS j WHERE j.id = p_job_id;
    IF NOT FOUND THEN
      RAISE EXCEPTION USING ERRCODE = 'VG002', MESSAGE = format('unknown job %s', p_job_id);
    END IF;
  ELSE
    v_job := vidgen_private.lock_job(p_job_id);
  END IF;
  PERFORM vidgen_private.use_lease(v_job, p_lease);
  INSERT INTO public.job_logs (job_id, step_name, level, message, data)
  VALUES (p_job_id, p_step_name, coalesce(p_level, 'info'), p_message, p_data)
  RETURNING id INTO v_id;
  RETURN v_id;
END;
$$;

-- Record a file the job produced, under the job's lease (db.assets.create(..., lease=)).
CREATE FUNCTION public.add_job_asset(p_job_id uuid, p_type text, p_url text, p_storage_path text,
                                     p_size_bytes bigint DEFAULT NULL, p_mime_type text DEFAULT NULL,
                                     p_metadata jsonb DEFAULT NULL, p_asset_id uuid DEFAULT NULL,
                                     p_lease bigint DEFAULT NULL)
RETURNS public.assets
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = ''
AS $$
DECLARE
  v_job public.jobs;
  v_asset public.assets;
BEGIN
  PERFORM vidgen_private.require_privileged_caller();
  v_job := vidgen_private.lock_job(p_job_id);
  PERFORM vidgen_private.use_lease(v_job, p_lease);
  -- p_asset_id (chosen by the caller) makes a retry after a lost response add nothing.
  INSERT INTO public.assets AS a (id, job_id, type, url, storage_path, size_bytes, mime_type, metadata_json)
  VALUES (coalesce(p_asset_id, gen_random_uuid()), p_job_id, p_type, p_url, p_storage_path,
          p_size_bytes, p_mime_type, coalesce(p_metadata, '{}'::jsonb))
  ON CONFLICT (id) DO NOTHING
  RETURNING * INTO v_asset;
  IF NOT FOUND THEN
    SELECT * INTO v_asset FROM public.assets AS a WHERE a.id = p_asset_id AND a.job_id = p_job_id;
    IF NOT FOUND THEN
      RAISE EXCEPTION USING ERRCODE = '23505',
        MESSAGE = format('asset %s already exists for another job', p_asset_id);
    END IF;
  END IF;
  RETURN v_asset;
END;
$$;

-- A project with an active job (queued or being worked on: credits reserved) cannot be
-- deleted: the job would vanish from under its worker with its credits taken. Cancel the
-- job first. Deleting the user deletes everything, as before (a cascade from auth.users).
CREATE FUNCTION vidgen_private.guard_active_job_delete() RETURNS trigger
LANGUAGE plpgsql
SET search_path = ''
AS $$
BEGIN
  IF pg_catalog.pg_trigger_depth() > 1 THEN
    RETURN OLD;  -- a cascade (the user is being deleted)
  END IF;
  IF TG_TABLE_NAME = 'projects' THEN
    IF EXISTS (SELECT 1 FROM public.jobs AS j
                WHERE j.project_id = OLD.id AND j.user_id = OLD.user_id
                  AND j.credit_state = 'reserved') THEN
      RAISE EXCEPTION USING ERRCODE = 'VG304',
        MESSAGE = format('project %s has an active job: cancel it before deleting the project', OLD.id),
        HINT = 'cancel_job(job_id) stops it and refunds its credits';
    END IF;
  ELSIF OLD.credit_state = 'reserved' THEN
    RAISE EXCEPTION USING ERRCODE = 'VG304',
      MESSAGE = format('job %s is active: cancel or fail it before deleting it', OLD.id),
      HINT = 'cancel_job(job_id) stops it and refunds its credits';
  END IF;
  RETURN OLD;
END;
$$;

REVOKE ALL ON FUNCTION vidgen_private.guard_active_job_delete() FROM PUBLIC, anon, authenticated, service_role;

CREATE TRIGGER tr_projects_guard_delete
BEFORE DELETE ON public.projects
FOR EACH ROW EXECUTE FUNCTION vidgen_private.guard_active_job_delete();

CREATE TRIGGER tr_jobs_guard_delete
BEFORE DELETE ON public.jobs
FOR EACH ROW EXECUTE FUNCTION vidgen_private.guard_active_job_delete();

REVOKE ALL ON FUNCTION public.register_worker(uuid, text) FROM PUBLIC, anon, authenticated, service_role;
REVOKE ALL ON FUNCTION public.recover_jobs(integer) FROM PUBLIC, anon, authenticated, service_role;
REVOKE ALL ON FUNCTION public.claim_jobs(uuid, integer, integer, uuid, integer) FROM PUBLIC, anon, authenticated, service_role;
REVOKE ALL ON FUNCTION public.heartbeat_job(uuid, bigint) FROM PUBLIC, anon, authenticated, service_role;
REVOKE ALL ON FUNCTION public.release_job(uuid, bigint) FROM PUBLIC, anon, authenticated, service_role;
REVOKE ALL ON FUNCTION public.cancel_job(uuid) FROM PUBLIC, anon, authenticated, service_role;
REVOKE ALL ON FUNCTION public.job_queue_stats() FROM PUBLIC, anon, authenticated, service_role;
REVOKE ALL ON FUNCTION public.start_job_step(uuid, text, text, bigint) FROM PUBLIC, anon, authenticated, service_role;
REVOKE ALL ON FUNCTION public.update_job_step(uuid, text, integer, text, bigint) FROM PUBLIC, anon, authenticated, service_role;
REVOKE ALL ON FUNCTION public.complete_job_step(uuid, text, jsonb, text, bigint) FROM PUBLIC, anon, authenticated, service_role;
REVOKE ALL ON FUNCTION public.finish_job(uuid, text, integer, jsonb, bigint) FROM PUBLIC, anon, authenticated, service_role;
REVOKE ALL ON FUNCTION public.fail_job(uuid, text, text, text, bigint) FROM PUBLIC, anon, authenticated, service_role;
REVOKE ALL ON FUNCTION public.append_job_log(uuid, text, text, text, jsonb, bigint) FROM PUBLIC, anon, authenticated, service_role;
REVOKE ALL ON FUNCTION public.add_job_asset(uuid, text, text, text, bigint, text, jsonb, uuid, bigint) FROM PUBLIC, anon, authenticated, service_role;
GRANT EXECUTE ON FUNCTION public.register_worker(uuid, text) TO service_role;
GRANT EXECUTE ON FUNCTION public.recover_jobs(integer) TO service_role;
GRANT EXECUTE ON FUNCTION public.claim_jobs(uuid, integer, integer, uuid, integer) TO service_role;
GRANT EXECUTE ON FUNCTION public.heartbeat_job(uuid, bigint) TO service_role;
GRANT EXECUTE ON FUNCTION public.release_job(uuid, bigint) TO service_role;
GRANT EXECUTE ON FUNCTION public.cancel_job(uuid) TO authenticated, service_role;
GRANT EXECUTE ON FUNCTION public.job_queue_stats() TO service_role;
GRANT EXECUTE ON FUNCTION public.start_job_step(uuid, text, text, bigint) TO service_role;
GRANT EXECUTE ON FUNCTION public.update_job_step(uuid, text, integer, text, bigint) TO service_role;
GRANT EXECUTE ON FUNCTION public.complete_job_step(uuid, text, jsonb, text, bigint) TO service_role;
GRANT EXECUTE ON FUNCTION public.finish_job(uuid, text, integer, jsonb, bigint) TO service_role;
GRANT EXECUTE ON FUNCTION public.fail_job(uuid, text, text, text, bigint) TO service_role;
GRANT EXECUTE ON FUNCTION public.append_job_log(uuid, text, text, text, jsonb, bigint) TO service_role;
GRANT EXECUTE ON FUNCTION public.add_job_asset(uuid, text, text, text, bigint, text, jsonb, uuid, bigint) TO service_role;
