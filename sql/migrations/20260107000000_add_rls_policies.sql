-- Row level security and privileges (PRD section 7, corrected).
--
-- Who may do what:
--   anon           nothing on these tables (drafts: see 20260118000000).
--   authenticated  reads its own rows everywhere; creates, updates and deletes its own
--                  projects; updates the harmless columns of its own profile. Never writes
--                  jobs, job_steps, job_logs, assets or credit_ledger.
--   service_role   the worker and the API: full access (it bypasses RLS), except that the
--                  credit ledger is insert-only.
-- Policies call (SELECT auth.uid()) so PostgreSQL evaluates it once per statement, not
-- once per row. Privileges are granted here explicitly, not left to Supabase's defaults.

-- profiles ------------------------------------------------------------------------------
CREATE POLICY profiles_select ON public.profiles
  FOR SELECT TO authenticated
  USING ((SELECT auth.uid()) = id);

CREATE POLICY profiles_update ON public.profiles
  FOR UPDATE TO authenticated
  USING ((SELECT auth.uid()) = id)
  WITH CHECK ((SELECT auth.uid()) = id);

GRANT SELECT ON TABLE public.profiles TO authenticated;
-- Only these columns: never id, stripe_customer_id or the timestamps.
GRANT UPDATE (display_name, avatar_url, notification_prefs) ON TABLE public.profiles TO authenticated;
GRANT SELECT, INSERT, UPDATE, DELETE ON TABLE public.profiles TO service_role;

-- projects ------------------------------------------------------------------------------
CREATE POLICY projects_select ON public.projects
  FOR SELECT TO authenticated
  USING ((SELECT auth.uid()) = user_id);

CREATE POLICY projects_insert ON public.projects
  FOR INSERT TO authenticated
  WITH CHECK ((SELECT auth.uid()) = user_id);

CREATE POLICY projects_update ON public.projects
  FOR UPDATE TO authenticated
  USING ((SELECT auth.uid()) = user_id)
  WITH CHECK ((SELECT auth.uid()) = user_id);

CREATE POLICY projects_delete ON public.projects
  FOR DELETE TO authenticated
  USING ((SELECT auth.uid()) = user_id);

GRANT SELECT, DELETE ON TABLE public.projects TO authenticated;
GRANT INSERT (id, user_id, title, prompt_text, niche_preset, target_minutes, voice_profile_id,
              transcript_mode, transcript_text, settings)
  ON TABLE public.projects TO authenticated;
-- Not id, user_id or the timestamps: a project never changes hands.
GRANT UPDATE (title, prompt_text, niche_preset, target_minutes, voice_profile_id,
              transcript_mode, transcript_text, settings)
  ON TABLE public.projects TO authenticated;
GRANT SELECT, INSERT, UPDATE, DELETE ON TABLE public.projects TO service_role;

-- jobs ----------------------------------------------------------------------------------
CREATE POLICY jobs_select ON public.jobs
  FOR SELECT TO authenticated
  USING ((SELECT auth.uid()) = user_id);

GRANT SELECT ON TABLE public.jobs TO authenticated;
GRANT SELECT, INSERT, UPDATE, DELETE ON TABLE public.jobs TO service_role;

-- job_steps, job_logs, assets: readable by the owner of their job --------------------------
CREATE POLICY job_steps_select ON public.job_steps
  FOR SELECT TO authenticated
  USING (job_id IN (SELECT j.id FROM public.jobs AS j WHERE j.user_id = (SELECT auth.uid())));

CREATE POLICY job_logs_select ON public.job_logs
  FOR SELECT TO authenticated
  USING (job_id IN (SELECT j.id FROM public.jobs AS j WHERE j.user_id = (SELECT auth.uid())));

CREATE POLICY assets_select ON public.assets
  FOR SELECT TO authenticated
  USING (job_id IN (SELECT j.id FROM public.jobs AS j WHERE j.user_id = (SELECT auth.uid())));

GRANT SELECT ON TABLE public.job_steps, public.job_logs, public.assets TO authenticated;
GRANT SELECT, INSERT, UPDATE, DELETE ON TABLE public.job_steps, public.job_logs, public.assets
  TO service_role;
GRANT USAGE ON SEQUENCE public.job_logs_id_seq TO service_role;

-- credit_ledger -------------------------------------------------------------------------
CREATE POLICY credit_select ON public.credit_ledger
  FOR SELECT TO authenticated
  USING ((SELECT auth.uid()) = user_id);

GRANT SELECT ON TABLE public.credit_ledger TO authenticated;
-- Insert-only, even for the service role: the ledger is a record, not a scratch pad.
GRANT SELECT, INSERT ON TABLE public.credit_ledger TO service_role;
