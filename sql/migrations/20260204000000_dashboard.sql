-- The user dashboard (PRD section 9) as a function: the signed-in user's projects, newest
-- first, each with its latest job, in pages (keyset pagination: pass the created_at and id
-- of the last row of a page to get the next). SECURITY INVOKER, so RLS applies.

-- (user_id, created_at DESC, id DESC) replaces (user_id): the dashboard reads a page of a
-- user's projects straight off it, as fast for 10,000 projects as for 5.
CREATE INDEX idx_projects_user_created ON public.projects (user_id, created_at DESC, id DESC);
DROP INDEX public.idx_projects_user;

CREATE FUNCTION public.get_dashboard(
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
AS $$
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
       ORDER BY jj.created_at DESC
       LIMIT 1
    ) AS j ON true
   WHERE p.user_id = (SELECT auth.uid())
     AND (p_before_created_at IS NULL OR (p.created_at, p.id) < (p_before_created_at, p_before_id))
   ORDER BY p.created_at DESC, p.id DESC
   LIMIT p_limit;
END;
$$;

REVOKE ALL ON FUNCTION public.get_dashboard(integer, timestamptz, uuid) FROM PUBLIC, anon, authenticated, service_role;
GRANT EXECUTE ON FUNCTION public.get_dashboard(integer, timestamptz, uuid) TO authenticated;
