-- Let clients follow jobs live: add jobs and job_steps to Supabase Realtime's publication
-- when there is one (a Supabase database). Realtime applies RLS, so users see only their
-- own rows. On plain PostgreSQL there is no such publication and this does nothing.
DO $$
BEGIN
  IF EXISTS (SELECT 1 FROM pg_catalog.pg_publication WHERE pubname = 'supabase_realtime') THEN
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_publication_tables
                    WHERE pubname = 'supabase_realtime' AND schemaname = 'public' AND tablename = 'jobs') THEN
      ALTER PUBLICATION supabase_realtime ADD TABLE public.jobs;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_publication_tables
                    WHERE pubname = 'supabase_realtime' AND schemaname = 'public' AND tablename = 'job_steps') THEN
      ALTER PUBLICATION supabase_realtime ADD TABLE public.job_steps;
    END IF;
  END IF;
END
$$;
