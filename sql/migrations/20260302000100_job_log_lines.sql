-- Log lines numbered per job, so a user's view of their logs says nothing about anyone
-- else's. job_logs.id is one identity counter shared by every job: the gaps between a
-- user's own ids measured how much every other job logged meanwhile. Now each line has
-- line_no, 1, 2, 3... within its job, which signed-in users read and page by; id stays (the
-- service role's insertion order, which retention walks) but users may not select it, nor
-- filter or sort by it (column privileges).
--
-- line_no is assigned by a trigger under the job's row lock (FOR NO KEY UPDATE): lines of
-- one job are numbered one at a time, in commit order, without gaps, whoever inserts them
-- (append_job_log, or the service role's direct inserts). Its DEFAULT 0 only means "number
-- it": no API role may write the column. A line inserted with a number already (a data-only
-- restore by the table's owner) keeps it.

ALTER TABLE public.job_logs ADD COLUMN line_no integer NOT NULL DEFAULT 0;

UPDATE public.job_logs AS l
   SET line_no = n.line_no
  FROM (SELECT id, row_number() OVER (PARTITION BY job_id ORDER BY id)::integer AS line_no
          FROM public.job_logs) AS n
 WHERE n.id = l.id;

-- A job's log in order; also the job_id foreign key's index. Replaces (job_id, id).
CREATE UNIQUE INDEX idx_job_logs_line ON public.job_logs (job_id, line_no);
DROP INDEX public.idx_job_logs_job;

CREATE FUNCTION vidgen_private.number_job_log_line() RETURNS trigger
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = ''
AS $$
BEGIN
  IF NEW.line_no > 0 THEN
    RETURN NEW;
  END IF;
  -- One numberer per job at a time; the next statement sees every line committed before.
  PERFORM 1 FROM public.jobs AS j WHERE j.id = NEW.job_id FOR NO KEY UPDATE;
  SELECT coalesce(max(l.line_no), 0) + 1 INTO NEW.line_no
    FROM public.job_logs AS l WHERE l.job_id = NEW.job_id;
  RETURN NEW;
END;
$$;

REVOKE ALL ON FUNCTION vidgen_private.number_job_log_line() FROM PUBLIC, anon, authenticated, service_role;

CREATE TRIGGER tr_job_logs_number
BEFORE INSERT ON public.job_logs
FOR EACH ROW EXECUTE FUNCTION vidgen_private.number_job_log_line();

-- Signed-in users read every column but id.
REVOKE SELECT ON TABLE public.job_logs FROM authenticated;
GRANT SELECT (job_id, line_no, step_name, level, message, data, created_at)
  ON TABLE public.job_logs TO authenticated;

-- The service role writes lines, but never their id or number, nor moves one to another job.
REVOKE INSERT, UPDATE ON TABLE public.job_logs FROM service_role;
GRANT INSERT (job_id, step_name, level, message, data, created_at) ON TABLE public.job_logs TO service_role;
GRANT UPDATE (step_name, level, message, data) ON TABLE public.job_logs TO service_role;

-- append_job_log returns the line's number (it returned the global id). Otherwise as in
-- 20260301000000_worker_fleet.sql.
CREATE OR REPLACE FUNCTION public.append_job_log(p_job_id uuid, p_message text, p_level text DEFAULT 'info',
                                                 p_step_name text DEFAULT NULL, p_data jsonb DEFAULT NULL,
                                                 p_lease bigint DEFAULT NULL)
RETURNS bigint
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = ''
AS $$
DECLARE
  v_job public.jobs;
  v_line integer;
BEGIN
  PERFORM vidgen_private.require_privileged_caller();
  IF p_message IS NULL THEN
    RAISE EXCEPTION USING ERRCODE = '22004', MESSAGE = 'p_message must not be null';
  END IF;
  IF p_lease IS NULL THEN
    -- The common case without a lease reads the job without locking it (the numbering
    -- trigger locks it).
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
  RETURNING line_no INTO v_line;
  RETURN v_line;
END;
$$;
