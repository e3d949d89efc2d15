-- The idempotency key of a log line goes with the line: retention (prune_job_logs) deletes
-- old lines, and their keys must not outlive them, one row per line ever written. A log
-- line's key now references the line (ON DELETE CASCADE); keys of credit moves stay (a
-- few per user, deleted with the user).

ALTER TABLE vidgen_private.idempotency_keys
  ADD COLUMN log_id bigint REFERENCES public.job_logs (id) ON DELETE CASCADE;

CREATE INDEX idx_idempotency_keys_log ON vidgen_private.idempotency_keys (log_id)
  WHERE log_id IS NOT NULL;

-- Record the result of the call named by the key (and, for a log line, the line it wrote).
DROP FUNCTION vidgen_private.idempotency_finish(text, text, jsonb);
CREATE FUNCTION vidgen_private.idempotency_finish(p_scope text, p_key text, p_result jsonb,
                                                  p_log_id bigint DEFAULT NULL)
RETURNS void
LANGUAGE sql
SET search_path = ''
AS $$
  UPDATE vidgen_private.idempotency_keys
     SET result = p_result, log_id = p_log_id
   WHERE scope = p_scope AND key = p_key
$$;

REVOKE ALL ON FUNCTION vidgen_private.idempotency_finish(text, text, jsonb, bigint) FROM PUBLIC, anon, authenticated, service_role;

-- As in 20260302000200_idempotency_keys.sql, the key now tied to the line it wrote.
CREATE OR REPLACE FUNCTION public.append_job_log(p_job_id uuid, p_message text, p_level text DEFAULT 'info',
                                                 p_step_name text DEFAULT NULL, p_data jsonb DEFAULT NULL,
                                                 p_lease bigint DEFAULT NULL,
                                                 p_idempotency_key text DEFAULT NULL)
RETURNS bigint
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = ''
AS $$
DECLARE
  v_level text := coalesce(p_level, 'info');
  v_job public.jobs;
  v_first jsonb;
  v_id bigint;
  v_line integer;
BEGIN
  PERFORM vidgen_private.require_privileged_caller();
  IF p_message IS NULL THEN
    RAISE EXCEPTION USING ERRCODE = '22004', MESSAGE = 'p_message must not be null';
  END IF;
  -- Checked on entry: they are hashed before they are stored.
  PERFORM vidgen_private.require_max_length('p_message', p_message, 4000);
  PERFORM vidgen_private.require_max_length('p_step_name', p_step_name, 64);
  IF pg_catalog.octet_length(p_data::text) > 16384 THEN
    RAISE EXCEPTION USING ERRCODE = '22001',
      MESSAGE = format('p_data must be at most 16384 bytes as JSON text, got %s',
                       pg_catalog.octet_length(p_data::text));
  END IF;
  IF p_lease IS NULL THEN
    SELECT * INTO v_job FROM public.jobs AS j WHERE j.id = p_job_id FOR NO KEY UPDATE;
    IF NOT FOUND THEN
      RAISE EXCEPTION USING ERRCODE = 'VG002', MESSAGE = format('unknown job %s', p_job_id);
    END IF;
  ELSE
    v_job := vidgen_private.lock_job(p_job_id);
  END IF;
  IF p_idempotency_key IS NOT NULL THEN
    v_first := vidgen_private.idempotency_begin('append_job_log', p_idempotency_key,
                 pg_catalog.jsonb_build_array(p_job_id, p_message, v_level, p_step_name, p_data),
                 NULL, p_job_id);
    IF v_first IS NOT NULL THEN
      RETURN v_first::bigint;  -- the line was written under the lease of the first call
    END IF;
  END IF;
  PERFORM vidgen_private.use_lease(v_job, p_lease);
  INSERT INTO public.job_logs (job_id, step_name, level, message, data)
  VALUES (p_job_id, p_step_name, v_level, p_message, p_data)
  RETURNING id, line_no INTO v_id, v_line;
  IF p_idempotency_key IS NOT NULL THEN
    PERFORM vidgen_private.idempotency_finish('append_job_log', p_idempotency_key,
                                              pg_catalog.to_jsonb(v_line), v_id);
  END IF;
  RETURN v_line;
END;
$$;
