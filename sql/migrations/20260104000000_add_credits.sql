-- credit_ledger, the credit functions and the new-user trigger (PRD sections 4-6).

CREATE TABLE public.credit_ledger (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  user_id uuid NOT NULL REFERENCES auth.users (id) ON DELETE CASCADE,
  type text NOT NULL CHECK (type IN (
    'purchase', 'usage', 'refund', 'grant', 'expire', 'reserve', 'subscription'
  )),
  -- A ledger row that moves nothing is a bug.
  amount integer NOT NULL CHECK (amount <> 0),
  balance_after integer,
  note text,
  -- ON DELETE SET NULL: deleting a project (and so its jobs) keeps the money trail.
  job_id uuid REFERENCES public.jobs (id) ON DELETE SET NULL,
  stripe_payment_id text,
  created_at timestamptz NOT NULL DEFAULT now()
);

-- (user_id, created_at DESC) instead of (user_id): a user's history, newest first.
CREATE INDEX idx_credit_user ON public.credit_ledger (user_id, created_at DESC);
CREATE INDEX idx_credit_job ON public.credit_ledger (job_id);
CREATE INDEX idx_credit_created ON public.credit_ledger (created_at DESC);

ALTER TABLE public.credit_ledger ENABLE ROW LEVEL SECURITY;
REVOKE ALL ON TABLE public.credit_ledger FROM PUBLIC, anon, authenticated, service_role;

-- A user's balance. Signed-in users may only ask for their own; the service role for
-- anyone. SECURITY INVOKER: RLS and grants apply to the caller.
CREATE FUNCTION public.get_credit_balance(p_user_id uuid) RETURNS integer
LANGUAGE plpgsql STABLE
SET search_path = ''
AS $$
BEGIN
  IF p_user_id IS NULL THEN
    RAISE EXCEPTION USING ERRCODE = '22004', MESSAGE = 'p_user_id must not be null';
  END IF;
  IF p_user_id IS DISTINCT FROM (SELECT auth.uid())
     AND NOT vidgen_private.caller_is_privileged() THEN
    RAISE EXCEPTION USING ERRCODE = '42501',
      MESSAGE = 'permission denied: a user may only read their own credit balance';
  END IF;
  RETURN (SELECT coalesce(sum(l.amount), 0)::integer
            FROM public.credit_ledger AS l
           WHERE l.user_id = p_user_id);
END;
$$;

-- Reserve credits for a job (service role only). The PRD's version read the balance and
-- then inserted with nothing in between to stop a concurrent reservation: here the
-- user's profile row is locked first, so reservations of one user run one at a time.
CREATE FUNCTION public.reserve_credits(p_user_id uuid, p_job_id uuid, p_amount integer)
RETURNS boolean
LANGUAGE plpgsql
SET search_path = ''
AS $$
DECLARE
  v_balance integer;
BEGIN
  IF p_user_id IS NULL OR p_job_id IS NULL THEN
    RAISE EXCEPTION USING ERRCODE = '22004', MESSAGE = 'p_user_id and p_job_id must not be null';
  END IF;
  IF p_amount IS NULL OR p_amount <= 0 THEN
    RAISE EXCEPTION USING ERRCODE = '22023',
      MESSAGE = format('credit amount must be a positive integer, got %s', coalesce(p_amount::text, 'null'));
  END IF;
  PERFORM 1 FROM public.profiles WHERE id = p_user_id FOR UPDATE;
  IF NOT FOUND THEN
    RAISE EXCEPTION USING ERRCODE = 'P0002', MESSAGE = format('unknown user %s', p_user_id);
  END IF;
  IF NOT EXISTS (SELECT 1 FROM public.jobs WHERE id = p_job_id AND user_id = p_user_id) THEN
    RAISE EXCEPTION USING ERRCODE = 'P0002',
      MESSAGE = format('job %s does not exist or does not belong to user %s', p_job_id, p_user_id);
  END IF;
  v_balance := public.get_credit_balance(p_user_id);
  IF v_balance < p_amount THEN
    RETURN false;
  END IF;
  INSERT INTO public.credit_ledger (user_id, type, amount, job_id, note)
  VALUES (p_user_id, 'reserve', -p_amount, p_job_id, 'Reserved for job');
  RETURN true;
END;
$$;

REVOKE ALL ON FUNCTION public.get_credit_balance(uuid) FROM PUBLIC, anon, authenticated, service_role;
GRANT EXECUTE ON FUNCTION public.get_credit_balance(uuid) TO authenticated, service_role;
REVOKE ALL ON FUNCTION public.reserve_credits(uuid, uuid, integer) FROM PUBLIC, anon, authenticated, service_role;
GRANT EXECUTE ON FUNCTION public.reserve_credits(uuid, uuid, integer) TO service_role;

-- New user setup (PRD section 6): a profile and the welcome credits. SECURITY DEFINER
-- because it runs as whoever inserts into auth.users; hence the empty search_path and
-- fully qualified names.
CREATE FUNCTION public.handle_new_user() RETURNS trigger
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = ''
AS $$
BEGIN
  INSERT INTO public.profiles (id, display_name)
  VALUES (NEW.id, NEW.raw_user_meta_data ->> 'name');

  INSERT INTO public.credit_ledger (user_id, type, amount, note)
  VALUES (NEW.id, 'grant', 10, 'Welcome bonus: 1 free video trial');

  RETURN NEW;
END;
$$;

REVOKE ALL ON FUNCTION public.handle_new_user() FROM PUBLIC, anon, authenticated, service_role;

DROP TRIGGER IF EXISTS on_auth_user_created ON auth.users;
CREATE TRIGGER on_auth_user_created
AFTER INSERT ON auth.users
FOR EACH ROW EXECUTE FUNCTION public.handle_new_user();
