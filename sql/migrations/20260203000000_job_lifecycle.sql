-- The job lifecycle (service role only).
--
-- The order of job_status is the pipeline: PENDING, QUEUED, SCRIPTING, VOICE_GEN,
-- ALIGNMENT, VISUAL_PLAN, IMAGE_GEN, TIMELINE, RENDERING, PACKAGING, READY. A job moves
-- forward only (stages may be skipped), PENDING -> QUEUED only with its credits reserved,
-- READY only with its credits settled, FAILED from any non-final state once its
-- reservation is refunded; READY and FAILED are final. A trigger enforces this for every
-- update, so no path (these functions, a direct PATCH, a script) can break it.
-- job_steps holds one row per job and stage: the stages from SCRIPTING to PACKAGING.
--
-- Errors, beyond those of the credit functions:
--   VG101 insufficient credits                 VG201 illegal job transition
--   VG202 unknown step (not a pipeline stage)  VG203 the step is not in a state for this

CREATE FUNCTION vidgen_private.is_work_stage(p_status public.job_status) RETURNS boolean
LANGUAGE sql IMMUTABLE
SET search_path = ''
AS $$
  SELECT p_status BETWEEN 'SCRIPTING'::public.job_status AND 'PACKAGING'::public.job_status
$$;

CREATE FUNCTION vidgen_private.guard_job_status() RETURNS trigger
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
    ELSE NEW.status > OLD.status
  END;
  IF NOT v_ok THEN
    RAISE EXCEPTION USING ERRCODE = 'VG201',
      MESSAGE = format('illegal job transition %s -> %s for job %s', OLD.status, NEW.status, OLD.id),
      DETAIL = format('credit_state is %s', NEW.credit_state),
      HINT = CASE
        WHEN OLD.status IN ('READY', 'FAILED') THEN 'READY and FAILED are final'
        WHEN NEW.status = 'QUEUED' THEN 'queue a job with queue_job(), which reserves its credits'
        WHEN NEW.status = 'READY' THEN 'finish a job with finish_job(), which settles its credits'
        WHEN NEW.status = 'FAILED' THEN 'fail a job with fail_job(), which refunds its credits'
        ELSE 'jobs only move forward through the pipeline' END;
  END IF;
  IF vidgen_private.is_work_stage(NEW.status) OR NEW.status = 'READY' THEN
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

REVOKE ALL ON FUNCTION vidgen_private.is_work_stage(public.job_status) FROM PUBLIC, anon, authenticated, service_role;
REVOKE ALL ON FUNCTION vidgen_private.guard_job_status() FROM PUBLIC, anon, authenticated, service_role;

CREATE TRIGGER tr_jobs_guard_status
BEFORE UPDATE OF status ON public.jobs
FOR EACH ROW EXECUTE FUNCTION vidgen_private.guard_job_status();

-- The stage a step name stands for; VG202 for anything else.
CREATE FUNCTION vidgen_private.step_stage(p_step_name text) RETURNS public.job_status
LANGUAGE plpgsql IMMUTABLE
SET search_path = ''
AS $$
BEGIN
  IF p_step_name IS NULL OR p_step_name NOT IN ('SCRIPTING', 'VOICE_GEN', 'ALIGNMENT',
      'VISUAL_PLAN', 'IMAGE_GEN', 'TIMELINE', 'RENDERING', 'PACKAGING') THEN
    RAISE EXCEPTION USING ERRCODE = 'VG202',
      MESSAGE = format('unknown step %s: steps are the pipeline stages SCRIPTING .. PACKAGING',
                       coalesce(quote_literal(p_step_name), 'null'));
  END IF;
  RETURN p_step_name::public.job_status;
END;
$$;

-- Overall progress of a job at a stage with the stage's own progress, 0..100.
CREATE FUNCTION vidgen_private.job_progress(p_stage public.job_status, p_step_pct integer)
RETURNS integer
LANGUAGE sql IMMUTABLE
SET search_path = ''
AS $$
  SELECT least(99, ((array_position(ARRAY['SCRIPTING', 'VOICE_GEN', 'ALIGNMENT', 'VISUAL_PLAN',
           'IMAGE_GEN', 'TIMELINE', 'RENDERING', 'PACKAGING']::public.job_status[], p_stage) - 1) * 100
         + p_step_pct) / 8)
$$;

REVOKE ALL ON FUNCTION vidgen_private.step_stage(text) FROM PUBLIC, anon, authenticated, service_role;
REVOKE ALL ON FUNCTION vidgen_private.job_progress(public.job_status, integer) FROM PUBLIC, anon, authenticated, service_role;

-- PENDING -> QUEUED with p_credits reserved in the same transaction. A job whose
-- reservation fails stays PENDING (VG101). Repeating it on a queued job with the same
-- credits returns the job unchanged.
CREATE FUNCTION public.queue_job(p_job_id uuid, p_credits integer)
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
  UPDATE public.jobs SET status = 'QUEUED', status_message = 'Queued'
   WHERE id = p_job_id RETURNING * INTO v_job;
  RETURN v_job;
END;
$$;

-- Move a job forward (or update the progress and message of its current stage).
CREATE FUNCTION public.advance_job(p_job_id uuid, p_status public.job_status,
                                   p_progress integer DEFAULT NULL, p_message text DEFAULT NULL)
RETURNS public.jobs
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = ''
AS $$
DECLARE
  v_job public.jobs;
BEGIN
  PERFORM vidgen_private.require_privileged_caller();
  IF p_status IS NULL THEN
    RAISE EXCEPTION USING ERRCODE = '22004', MESSAGE = 'p_status must not be null';
  END IF;
  IF p_status IN ('READY', 'FAILED', 'QUEUED', 'PENDING') THEN
    RAISE EXCEPTION USING ERRCODE = 'VG201',
      MESSAGE = format('advance_job cannot move a job to %s', p_status),
      HINT = 'use queue_job(), finish_job() or fail_job()';
  END IF;
  IF p_progress IS NOT NULL AND p_progress NOT BETWEEN 0 AND 100 THEN
    RAISE EXCEPTION USING ERRCODE = '22023',
      MESSAGE = format('p_progress must be between 0 and 100, got %s', p_progress);
  END IF;
  v_job := vidgen_private.lock_job(p_job_id);
  UPDATE public.jobs
     SET status = p_status,
         progress = coalesce(p_progress, vidgen_private.job_progress(p_status, 0)),
         status_message = coalesce(p_message, status_message)
   WHERE id = p_job_id
  RETURNING * INTO v_job;
  RETURN v_job;
END;
$$;

-- Start a step: its row (created or restarted) is 'started', and the job moves to the
-- step's stage if it is not there yet.
CREATE FUNCTION public.start_job_step(p_job_id uuid, p_step_name text, p_message text DEFAULT NULL)
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

-- Lock a step that is started (or, with p_or_succeeded, already succeeded); VG203 else.
CREATE FUNCTION vidgen_private.lock_started_step(p_job_id uuid, p_step_name text,
                                                 p_or_succeeded boolean DEFAULT false)
RETURNS public.job_steps
LANGUAGE plpgsql
SET search_path = ''
AS $$
DECLARE
  v_step public.job_steps;
BEGIN
  PERFORM vidgen_private.step_stage(p_step_name);
  SELECT * INTO v_step FROM public.job_steps AS s
   WHERE s.job_id = p_job_id AND s.step_name = p_step_name FOR UPDATE;
  IF NOT FOUND OR NOT (v_step.state = 'started'
                       OR (p_or_succeeded AND v_step.state = 'succeeded')) THEN
    RAISE EXCEPTION USING ERRCODE = 'VG203',
      MESSAGE = format('step %s of job %s is %s, not started', p_step_name, p_job_id,
                       coalesce(v_step.state::text, 'not recorded')),
      HINT = 'start the step with start_job_step() first';
  END IF;
  RETURN v_step;
END;
$$;

REVOKE ALL ON FUNCTION vidgen_private.lock_started_step(uuid, text, boolean) FROM PUBLIC, anon, authenticated, service_role;

-- Progress of a started step (0..100) and, from it, of the job.
CREATE FUNCTION public.update_job_step(p_job_id uuid, p_step_name text, p_progress integer,
                                       p_message text DEFAULT NULL)
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
                                         p_artifacts jsonb DEFAULT NULL, p_message text DEFAULT NULL)
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
-- output, finish. Repeating it on a READY job returns the job unchanged.
CREATE FUNCTION public.finish_job(p_job_id uuid, p_output_url text,
                                  p_final_credits integer DEFAULT NULL, p_manifest jsonb DEFAULT NULL)
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
         manifest_json = coalesce(p_manifest, manifest_json)
   WHERE id = p_job_id
  RETURNING * INTO v_job;
  RETURN v_job;
END;
$$;

-- FAILED: record which step failed and why, mark that step failed, refund the
-- reservation, finish. Repeating it on a FAILED job returns the job unchanged.
CREATE FUNCTION public.fail_job(p_job_id uuid, p_error_code text, p_error_message text,
                                p_failed_step text DEFAULT NULL)
RETURNS public.jobs
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = ''
AS $$
DECLARE
  v_job public.jobs;
  v_step text;
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
  v_step := coalesce(p_failed_step,
                     CASE WHEN vidgen_private.is_work_stage(v_job.status) THEN v_job.status::text END);
  IF v_step IS NOT NULL THEN
    PERFORM vidgen_private.step_stage(v_step);
    UPDATE public.job_steps
       SET state = 'failed', error_message = p_error_message, finished_at = pg_catalog.now()
     WHERE job_id = p_job_id AND step_name = v_step;
  END IF;
  PERFORM public.refund_job_credits(p_job_id);
  UPDATE public.jobs
     SET status = 'FAILED', failed_step = v_step, error_code = p_error_code,
         error_message = p_error_message, status_message = 'Failed'
   WHERE id = p_job_id
  RETURNING * INTO v_job;
  RETURN v_job;
END;
$$;

-- Append a log line to a job; returns its id.
CREATE FUNCTION public.append_job_log(p_job_id uuid, p_message text, p_level text DEFAULT 'info',
                                      p_step_name text DEFAULT NULL, p_data jsonb DEFAULT NULL)
RETURNS bigint
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = ''
AS $$
DECLARE
  v_id bigint;
BEGIN
  PERFORM vidgen_private.require_privileged_caller();
  IF p_message IS NULL THEN
    RAISE EXCEPTION USING ERRCODE = '22004', MESSAGE = 'p_message must not be null';
  END IF;
  IF NOT EXISTS (SELECT 1 FROM public.jobs AS j WHERE j.id = p_job_id) THEN
    RAISE EXCEPTION USING ERRCODE = 'VG002', MESSAGE = format('unknown job %s', p_job_id);
  END IF;
  INSERT INTO public.job_logs (job_id, step_name, level, message, data)
  VALUES (p_job_id, p_step_name, coalesce(p_level, 'info'), p_message, p_data)
  RETURNING id INTO v_id;
  RETURN v_id;
END;
$$;

REVOKE ALL ON FUNCTION public.queue_job(uuid, integer) FROM PUBLIC, anon, authenticated, service_role;
REVOKE ALL ON FUNCTION public.advance_job(uuid, public.job_status, integer, text) FROM PUBLIC, anon, authenticated, service_role;
REVOKE ALL ON FUNCTION public.start_job_step(uuid, text, text) FROM PUBLIC, anon, authenticated, service_role;
REVOKE ALL ON FUNCTION public.update_job_step(uuid, text, integer, text) FROM PUBLIC, anon, authenticated, service_role;
REVOKE ALL ON FUNCTION public.complete_job_step(uuid, text, jsonb, text) FROM PUBLIC, anon, authenticated, service_role;
REVOKE ALL ON FUNCTION public.finish_job(uuid, text, integer, jsonb) FROM PUBLIC, anon, authenticated, service_role;
REVOKE ALL ON FUNCTION public.fail_job(uuid, text, text, text) FROM PUBLIC, anon, authenticated, service_role;
REVOKE ALL ON FUNCTION public.append_job_log(uuid, text, text, text, jsonb) FROM PUBLIC, anon, authenticated, service_role;
GRANT EXECUTE ON FUNCTION public.queue_job(uuid, integer) TO service_role;
GRANT EXECUTE ON FUNCTION public.advance_job(uuid, public.job_status, integer, text) TO service_role;
GRANT EXECUTE ON FUNCTION public.start_job_step(uuid, text, text) TO service_role;
GRANT EXECUTE ON FUNCTION public.update_job_step(uuid, text, integer, text) TO service_role;
GRANT EXECUTE ON FUNCTION public.complete_job_step(uuid, text, jsonb, text) TO service_role;
GRANT EXECUTE ON FUNCTION public.finish_job(uuid, text, integer, jsonb) TO service_role;
GRANT EXECUTE ON FUNCTION public.fail_job(uuid, text, text, text) TO service_role;
GRANT EXECUTE ON FUNCTION public.append_job_log(uuid, text, text, text, jsonb) TO service_role;
