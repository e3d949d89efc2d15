-- projects and jobs (PRD section 4).

CREATE TABLE public.projects (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  user_id uuid NOT NULL REFERENCES auth.users (id) ON DELETE CASCADE,
  title text NOT NULL,
  prompt_text text NOT NULL,
  niche_preset text NOT NULL CHECK (niche_preset IN (
    'motivation', 'explainer', 'facts', 'history', 'finance', 'science'
  )),
  target_minutes integer NOT NULL DEFAULT 1 CHECK (target_minutes BETWEEN 1 AND 10),
  voice_profile_id uuid,
  transcript_mode text DEFAULT 'auto' CHECK (transcript_mode IN ('auto', 'manual')),
  transcript_text text,
  settings jsonb DEFAULT '{}'::jsonb,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  -- Target of jobs' (project_id, user_id) foreign key.
  CONSTRAINT projects_id_user_id_key UNIQUE (id, user_id)
);

CREATE INDEX idx_projects_user ON public.projects (user_id);
CREATE INDEX idx_projects_created ON public.projects (created_at DESC);

CREATE TRIGGER tr_projects_updated
BEFORE UPDATE ON public.projects
FOR EACH ROW EXECUTE FUNCTION public.update_updated_at();

ALTER TABLE public.projects ENABLE ROW LEVEL SECURITY;
REVOKE ALL ON TABLE public.projects FROM PUBLIC, anon, authenticated, service_role;

CREATE TYPE public.job_status AS ENUM (
  'PENDING', 'QUEUED', 'SCRIPTING', 'VOICE_GEN', 'ALIGNMENT',
  'VISUAL_PLAN', 'IMAGE_GEN', 'TIMELINE', 'RENDERING',
  'PACKAGING', 'READY', 'FAILED'
);

CREATE TABLE public.jobs (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  project_id uuid NOT NULL,
  user_id uuid NOT NULL REFERENCES auth.users (id) ON DELETE CASCADE,
  status public.job_status NOT NULL DEFAULT 'PENDING',
  progress integer DEFAULT 0 CHECK (progress BETWEEN 0 AND 100),
  status_message text,
  -- Credits are never negative.
  cost_credits_reserved integer DEFAULT 0 CHECK (cost_credits_reserved >= 0),
  cost_credits_final integer CHECK (cost_credits_final >= 0),
  failed_step text,
  error_code text,
  error_message text,
  output_url text,
  manifest_json jsonb,
  created_at timestamptz NOT NULL DEFAULT now(),
  started_at timestamptz,
  finished_at timestamptz,
  -- The PRD's `project_id REFERENCES projects(id)`, widened to (project_id, user_id): a
  -- job always belongs to its project's owner, never to another user.
  CONSTRAINT jobs_project_user_fkey FOREIGN KEY (project_id, user_id)
    REFERENCES public.projects (id, user_id) ON DELETE CASCADE
);

CREATE INDEX idx_jobs_user ON public.jobs (user_id);
-- (project_id, user_id, created_at DESC) instead of (project_id): it covers the
-- (project_id, user_id) foreign key and also serves "latest job of a project" (the
-- dashboard, which filters on both columns).
CREATE INDEX idx_jobs_project ON public.jobs (project_id, user_id, created_at DESC);
CREATE INDEX idx_jobs_status ON public.jobs (status);
CREATE INDEX idx_jobs_created ON public.jobs (created_at DESC);

ALTER TABLE public.jobs ENABLE ROW LEVEL SECURITY;
REVOKE ALL ON TABLE public.jobs FROM PUBLIC, anon, authenticated, service_role;
