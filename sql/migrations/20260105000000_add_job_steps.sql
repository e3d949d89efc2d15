-- job_steps (PRD section 4) and job_logs (the `logs` box of the PRD's schema diagram,
-- which had no DDL): per-job, per-step log lines the worker appends and the owner reads.

CREATE TYPE public.step_status AS ENUM ('pending', 'started', 'succeeded', 'failed');

CREATE TABLE public.job_steps (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  job_id uuid NOT NULL REFERENCES public.jobs (id) ON DELETE CASCADE,
  step_name text NOT NULL,
  step_order integer NOT NULL,
  state public.step_status NOT NULL DEFAULT 'pending',
  progress_pct integer DEFAULT 0 CHECK (progress_pct BETWEEN 0 AND 100),
  status_message text,
  error_message text,
  logs_url text,
  artifacts_json jsonb DEFAULT '{}'::jsonb,
  started_at timestamptz,
  finished_at timestamptz
);

-- The PRD's idx_job_steps_job (job_id) is left out: the unique index below starts with
-- job_id and serves the same lookups, so a second index would only slow down writes.
CREATE UNIQUE INDEX idx_job_steps_unique ON public.job_steps (job_id, step_name);

ALTER TABLE public.job_steps ENABLE ROW LEVEL SECURITY;
REVOKE ALL ON TABLE public.job_steps FROM PUBLIC, anon, authenticated, service_role;

CREATE TABLE public.job_logs (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  job_id uuid NOT NULL REFERENCES public.jobs (id) ON DELETE CASCADE,
  step_name text,
  level text NOT NULL DEFAULT 'info' CHECK (level IN ('debug', 'info', 'warning', 'error')),
  message text NOT NULL,
  data jsonb,
  created_at timestamptz NOT NULL DEFAULT now()
);

-- A job's log in order (id follows insertion order).
CREATE INDEX idx_job_logs_job ON public.job_logs (job_id, id);

ALTER TABLE public.job_logs ENABLE ROW LEVEL SECURITY;
REVOKE ALL ON TABLE public.job_logs FROM PUBLIC, anon, authenticated, service_role;
REVOKE ALL ON SEQUENCE public.job_logs_id_seq FROM PUBLIC, anon, authenticated, service_role;
