-- Fencing tokens that say nothing about other users. jobs.lease_token came from one
-- sequence shared by every job, and a user may read their own jobs' tokens: two of them
-- told how many jobs the whole platform had claimed in between. A token only has to differ
-- from the job's earlier ones (the worker-side calls compare it for equality), so each
-- claim now draws a random one. It stays within 2^53, exact as a JSON number in
-- JavaScript; two claims of one job draw the same token with odds of 1 in 2^53.
-- claim_jobs is unchanged but for the token it sets.

CREATE FUNCTION vidgen_private.new_lease_token() RETURNS bigint
LANGUAGE sql
VOLATILE
SET search_path = ''
AS $$ SELECT 1 + pg_catalog.floor(pg_catalog.random() * 9007199254740990)::bigint $$;

REVOKE ALL ON FUNCTION vidgen_private.new_lease_token() FROM PUBLIC, anon, authenticated, service_role;

CREATE OR REPLACE FUNCTION public.claim_jobs(p_worker_id uuid, p_limit integer DEFAULT 1,
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
           lease_token = vidgen_private.new_lease_token(),
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

DROP SEQUENCE vidgen_private.lease_tokens;
