-- Many log lines of one job in one call, exactly once and under the job's lease.
-- logs.append_many was a bulk INSERT into job_logs: a lost response could not be told
-- from a failure (so it was never retried, and the lines could be lost or doubled by a
-- caller's retry), and it carried no lease (a worker that lost its job could still log to
-- it). append_job_logs appends p_lines, a JSON array of {"message", "level", "step_name",
-- "data"} objects, in order, with the checks of append_job_log, and returns the number
-- (line_no) of the last line. With p_idempotency_key, a repeat returns the first call's
-- result and appends nothing; with other lines under the same key, VG107. At most 1,000
-- lines a call. Errors: 22023 (p_lines not an array of line objects, an unknown key, no
-- lines or too many), 22004 (a line without a message), 22001 (a value over its bound),
-- 23514 (an unknown level), VG002, and the lease errors of every worker-side call.

CREATE FUNCTION public.append_job_logs(p_job_id uuid, p_lines jsonb,
                                       p_lease bigint DEFAULT NULL,
                                       p_idempotency_key text DEFAULT NULL)
RETURNS integer
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = ''
AS $$
DECLARE
  v_count integer;
  v_line jsonb;
  v_n integer := 0;
  v_unknown text;
  v_job public.jobs;
  v_first jsonb;
  v_first_id bigint;
  v_last integer;
BEGIN
  PERFORM vidgen_private.require_privileged_caller();
  IF p_lines IS NULL OR pg_catalog.jsonb_typeof(p_lines) <> 'array' THEN
    RAISE EXCEPTION USING ERRCODE = '22023',
      MESSAGE = 'p_lines must be a JSON array of log lines';
  END IF;
  v_count := pg_catalog.jsonb_array_length(p_lines);
  IF v_count NOT BETWEEN 1 AND 1000 THEN
    RAISE EXCEPTION USING ERRCODE = '22023',
      MESSAGE = format('p_lines must hold from 1 to 1000 lines, got %s', v_count);
  END IF;
  -- Checked on entry, each line named by its position: they are hashed before they are stored.
  FOR v_line IN SELECT l.value FROM pg_catalog.jsonb_array_elements(p_lines) AS l LOOP
    v_n := v_n + 1;
    IF pg_catalog.jsonb_typeof(v_line) <> 'object' THEN
      RAISE EXCEPTION USING ERRCODE = '22023',
        MESSAGE = format('p_lines[%s] must be an object', v_n);
    END IF;
    SELECT pg_catalog.string_agg(k, ', ' ORDER BY k) INTO v_unknown
      FROM pg_catalog.jsonb_object_keys(v_line) AS k
     WHERE k NOT IN ('message', 'level', 'step_name', 'data');
    IF v_unknown IS NOT NULL THEN
      RAISE EXCEPTION USING ERRCODE = '22023',
        MESSAGE = format('p_lines[%s] has unknown keys: %s (a line has message, level, step_name, data)',
                         v_n, v_unknown);
    END IF;
    IF pg_catalog.jsonb_typeof(v_line -> 'message') IS DISTINCT FROM 'string' THEN
      RAISE EXCEPTION USING ERRCODE = '22004',
        MESSAGE = format('p_lines[%s].message must be a string', v_n);
    END IF;
    IF coalesce(pg_catalog.jsonb_typeof(v_line -> 'level'), 'null') NOT IN ('string', 'null')
       OR coalesce(pg_catalog.jsonb_typeof(v_line -> 'step_name'), 'null') NOT IN ('string', 'null') THEN
      RAISE EXCEPTION USING ERRCODE = '22023',
        MESSAGE = format('p_lines[%s]: level and step_name must be strings (or null)', v_n);
    END IF;
    PERFORM vidgen_private.require_max_length(format('p_lines[%s].message', v_n),
                                              v_line ->> 'message', 4000);
    PERFORM vidgen_private.require_max_length(format('p_lines[%s].step_name', v_n),
                                              v_line ->> 'step_name', 64);
    IF pg_catalog.octet_length((v_line -> 'data')::text) > 16384 THEN
      RAISE EXCEPTION USING ERRCODE = '22001',
        MESSAGE = format('p_lines[%s].data must be at most 16384 bytes as JSON text, got %s',
                         v_n, pg_catalog.octet_length((v_line -> 'data')::text));
    END IF;
  END LOOP;
  IF p_lease IS NULL THEN
    SELECT * INTO v_job FROM public.jobs AS j WHERE j.id = p_job_id FOR NO KEY UPDATE;
    IF NOT FOUND THEN
      RAISE EXCEPTION USING ERRCODE = 'VG002', MESSAGE = format('unknown job %s', p_job_id);
    END IF;
  ELSE
    v_job := vidgen_private.lock_job(p_job_id);
  END IF;
  IF p_idempotency_key IS NOT NULL THEN
    v_first := vidgen_private.idempotency_begin('append_job_logs', p_idempotency_key,
                 pg_catalog.jsonb_build_array(p_job_id, p_lines), NULL, p_job_id);
    IF v_first IS NOT NULL THEN
      RETURN v_first::integer;  -- the lines were written under the lease of the first call
    END IF;
  END IF;
  PERFORM vidgen_private.use_lease(v_job, p_lease);
  -- In the array's order: the numbering trigger gives each row the job's next line_no.
  WITH inserted AS (
    INSERT INTO public.job_logs (job_id, step_name, level, message, data)
    SELECT p_job_id, l.value ->> 'step_name', coalesce(l.value ->> 'level', 'info'),
           l.value ->> 'message', nullif(l.value -> 'data', 'null'::jsonb)
      FROM pg_catalog.jsonb_array_elements(p_lines) WITH ORDINALITY AS l(value, n)
     ORDER BY l.n
    RETURNING id, line_no
  )
  SELECT pg_catalog.min(id), pg_catalog.max(line_no) INTO v_first_id, v_last FROM inserted;
  IF p_idempotency_key IS NOT NULL THEN
    PERFORM vidgen_private.idempotency_finish('append_job_logs', p_idempotency_key,
                                              pg_catalog.to_jsonb(v_last), v_first_id);
  END IF;
  RETURN v_last;
END;
$$;

REVOKE ALL ON FUNCTION public.append_job_logs(uuid, jsonb, bigint, text) FROM PUBLIC, anon, authenticated, service_role;
GRANT EXECUTE ON FUNCTION public.append_job_logs(uuid, jsonb, bigint, text) TO service_role;
