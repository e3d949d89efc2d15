-- Fewer round trips for the worker and the API service: a job created and queued in one
-- call (no job is left behind when the credits are short, and a repeated request returns
-- the first job), and a stage transition in one call (the previous step completed and the
-- next one started in the same transaction), and the last step completed by the call that
-- finishes the job. A repeated draft claim returns the draft claimed the first time.

-- Create a job and queue it, reserving p_credits, in one transaction: VG101 (insufficient
-- credits) leaves nothing behind. p_job_id names the job (the SDK derives it from an
-- idempotency key, or draws a random one): calling again with the same id and arguments
-- returns the job as it is now; the same id with other arguments is VG107.
CREATE FUNCTION public.create_and_queue_job(p_job_id uuid, p_project_id uuid, p_user_id uuid,
                                            p_credits integer, p_status_message text DEFAULT NULL,
                                            p_manifest jsonb DEFAULT NULL)
RETURNS public.jobs
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = ''
AS $$
DECLARE
  v_job public.jobs;
BEGIN
  PERFORM vidgen_private.require_privileged_caller();
  IF p_job_id IS NULL OR p_project_id IS NULL OR p_user_id IS NULL THEN
    RAISE EXCEPTION USING ERRCODE = '22004',
      MESSAGE = 'p_job_id, p_project_id and p_user_id must not be null';
  END IF;
  PERFORM vidgen_private.require_positive('p_credits', p_credits);
  INSERT INTO public.jobs (id, project_id, user_id, status_message, manifest_json)
  VALUES (p_job_id, p_project_id, p_user_id, p_status_message, p_manifest)
  ON CONFLICT (id) DO NOTHING
  RETURNING * INTO v_job;
  IF NOT FOUND THEN
    v_job := vidgen_private.lock_job(p_job_id);
    IF (v_job.project_id, v_job.user_id, v_job.cost_credits_reserved)
       IS DISTINCT FROM (p_project_id, p_user_id, p_credits) THEN
      RAISE EXCEPTION USING ERRCODE = 'VG107',
        MESSAGE = format('job %s already exists with other arguments', p_job_id),
        HINT = 'an idempotency key names one request: use a new key for a new job';
    END IF;
    RETURN v_job;  -- a repeat: the job as it is now
  END IF;
  IF NOT public.reserve_credits(p_user_id, p_job_id, p_credits) THEN
    RAISE EXCEPTION USING ERRCODE = 'VG101',
      MESSAGE = format('insufficient credits: the job needs %s, the balance is %s',
                       p_credits, public.get_credit_balance(p_user_id)),
      DETAIL = json_build_object('required', p_credits,
                                 'balance', public.get_credit_balance(p_user_id))::text;
  END IF;
  UPDATE public.jobs SET status = 'QUEUED', status_message = coalesce(p_status_message, 'Queued'),
                         queued_at = pg_catalog.now()
   WHERE id = p_job_id
  RETURNING * INTO v_job;
  RETURN v_job;
END;
$$;

-- A stage transition in one call: complete p_previous_step (with its artifacts and
-- message; nothing to do when it already succeeded, as after a lost response) and start
-- p_step_name, under the lease. Returns the started step.
CREATE FUNCTION public.next_job_step(p_job_id uuid, p_step_name text,
                                     p_previous_step text DEFAULT NULL,
                                     p_previous_artifacts jsonb DEFAULT NULL,
                                     p_previous_message text DEFAULT NULL,
                                     p_message text DEFAULT NULL, p_lease bigint DEFAULT NULL)
RETURNS public.job_steps
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = ''
AS $$
BEGIN
  PERFORM vidgen_private.require_privileged_caller();
  IF p_previous_step IS NOT NULL THEN
    PERFORM public.complete_job_step(p_job_id, p_previous_step, p_previous_artifacts,
                                     p_previous_message, p_lease);
  END IF;
  RETURN public.start_job_step(p_job_id, p_step_name, p_message, p_lease);
END;
$$;

-- finish_job completes the job's last step too (p_step_name, its artifacts and message),
-- in the same transaction; otherwise as in 20260301000000_worker_fleet.sql.
DROP FUNCTION public.finish_job(uuid, text, integer, jsonb, bigint);
CREATE FUNCTION public.finish_job(p_job_id uuid, p_output_url text,
                                  p_final_credits integer DEFAULT NULL, p_manifest jsonb DEFAULT NULL,
                                  p_lease bigint DEFAULT NULL, p_step_name text DEFAULT NULL,
                                  p_step_artifacts jsonb DEFAULT NULL,
                                  p_step_message text DEFAULT NULL)
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
  IF p_step_name IS NOT NULL THEN
    PERFORM public.complete_job_step(p_job_id, p_step_name, p_step_artifacts, p_step_message,
                                     p_lease);
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

-- Claiming a draft is safe to repeat: a user who already claimed the session's drafts gets
-- the same draft again (the SDK retries a claim whose response was lost), never another
-- user's. Otherwise as in 20260302000000_input_bounds.sql.
CREATE OR REPLACE FUNCTION public.claim_draft_prompt(p_session_token text, p_user_id uuid)
RETURNS uuid
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = ''
AS $$
DECLARE
  v_draft_id uuid;
BEGIN
  IF p_session_token IS NULL OR p_user_id IS NULL THEN
    RAISE EXCEPTION USING ERRCODE = '22004',
      MESSAGE = 'p_session_token and p_user_id must not be null';
  END IF;
  PERFORM vidgen_private.require_max_length('p_session_token', p_session_token, 256);
  IF NOT vidgen_private.caller_is_privileged()
     AND (vidgen_private.caller_role() <> 'authenticated'
          OR p_user_id IS DISTINCT FROM (SELECT auth.uid())) THEN
    RAISE EXCEPTION USING ERRCODE = '42501',
      MESSAGE = 'permission denied: a user may only claim drafts for themselves';
  END IF;

  WITH claimed AS (
    UPDATE public.draft_prompts
       SET user_id = p_user_id
     WHERE session_token = p_session_token
       AND user_id IS NULL
       AND expires_at > pg_catalog.now()
    RETURNING id, created_at
  )
  SELECT c.id INTO v_draft_id FROM claimed AS c ORDER BY c.created_at DESC, c.id LIMIT 1;

  IF v_draft_id IS NULL THEN  -- a repeat: what this user already claimed
    SELECT d.id INTO v_draft_id
      FROM public.draft_prompts AS d
     WHERE d.session_token = p_session_token AND d.user_id = p_user_id
     ORDER BY d.created_at DESC, d.id
     LIMIT 1;
  END IF;
  RETURN v_draft_id;
END;
$$;

REVOKE ALL ON FUNCTION public.create_and_queue_job(uuid, uuid, uuid, integer, text, jsonb) FROM PUBLIC, anon, authenticated, service_role;
REVOKE ALL ON FUNCTION public.next_job_step(uuid, text, text, jsonb, text, text, bigint) FROM PUBLIC, anon, authenticated, service_role;
REVOKE ALL ON FUNCTION public.finish_job(uuid, text, integer, jsonb, bigint, text, jsonb, text) FROM PUBLIC, anon, authenticated, service_role;
GRANT EXECUTE ON FUNCTION public.create_and_queue_job(uuid, uuid, uuid, integer, text, jsonb) TO service_role;
GRANT EXECUTE ON FUNCTION public.next_job_step(uuid, text, text, jsonb, text, text, bigint) TO service_role;
GRANT EXECUTE ON FUNCTION public.finish_job(uuid, text, integer, jsonb, bigint, text, jsonb, text) TO service_role;
