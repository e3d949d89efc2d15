-- The credit API: reserve, settle, refund, grant, purchase, expire (service role only).
--
-- Each function is one transaction (PostgREST runs every RPC in its own READ COMMITTED
-- transaction) and takes its locks in one order, job row first, then the user's balance
-- row, so concurrent calls cannot deadlock. They are SECURITY DEFINER so that the credit
-- columns of jobs can be kept out of everyone's direct reach, and check their caller.
--
-- Errors (SQLSTATE: meaning):
--   22004 a required argument is null         22023 a bad amount
--   42501 the caller may not do this          VG001 unknown user
--   VG002 unknown job                          VG003 the job belongs to another user
--   VG102 another amount is already reserved   VG103 the job's credits were settled
--   VG104 the job's credits were refunded      VG105 the job has no reservation
--   VG106 a payment id replayed with another user or amount

CREATE FUNCTION vidgen_private.require_privileged_caller() RETURNS void
LANGUAGE plpgsql STABLE
SET search_path = ''
AS $$
BEGIN
  IF pg_catalog.current_setting('role', true) = 'service_role' THEN
    RETURN;  -- the common case, without a catalog lookup
  END IF;
  IF NOT vidgen_private.caller_is_privileged() THEN
    RAISE EXCEPTION USING ERRCODE = '42501',
      MESSAGE = 'permission denied: only the service role may call this function';
  END IF;
END;
$$;

CREATE FUNCTION vidgen_private.require_positive(p_name text, p_value integer) RETURNS void
LANGUAGE plpgsql IMMUTABLE
SET search_path = ''
AS $$
BEGIN
  IF p_value IS NULL OR p_value <= 0 THEN
    RAISE EXCEPTION USING ERRCODE = '22023',
      MESSAGE = format('%s must be a positive integer, got %s', p_name, coalesce(p_value::text, 'null'));
  END IF;
END;
$$;

-- Lock the user's balance row (creating it for a user who has none yet); VG001 when the
-- user does not exist. Returns the balance as of the latest commit.
CREATE FUNCTION vidgen_private.lock_balance(p_user_id uuid) RETURNS integer
LANGUAGE plpgsql
SET search_path = ''
AS $$
DECLARE
  v_balance integer;
BEGIN
  IF p_user_id IS NULL THEN
    RAISE EXCEPTION USING ERRCODE = '22004', MESSAGE = 'p_user_id must not be null';
  END IF;
  SELECT b.balance INTO v_balance FROM public.credit_balances AS b
   WHERE b.user_id = p_user_id FOR UPDATE;
  IF FOUND THEN
    RETURN v_balance;
  END IF;
  IF NOT EXISTS (SELECT 1 FROM public.profiles AS p WHERE p.id = p_user_id) THEN
    RAISE EXCEPTION USING ERRCODE = 'VG001', MESSAGE = format('unknown user %s', p_user_id);
  END IF;
  INSERT INTO public.credit_balances (user_id) VALUES (p_user_id) ON CONFLICT DO NOTHING;
  SELECT b.balance INTO v_balance FROM public.credit_balances AS b
   WHERE b.user_id = p_user_id FOR UPDATE;
  RETURN v_balance;
END;
$$;

-- Lock a job row; VG002 when it does not exist.
CREATE FUNCTION vidgen_private.lock_job(p_job_id uuid) RETURNS public.jobs
LANGUAGE plpgsql
SET search_path = ''
AS $$
DECLARE
  v_job public.jobs;
BEGIN
  IF p_job_id IS NULL THEN
    RAISE EXCEPTION USING ERRCODE = '22004', MESSAGE = 'p_job_id must not be null';
  END IF;
  SELECT * INTO v_job FROM public.jobs AS j WHERE j.id = p_job_id FOR UPDATE;
  IF NOT FOUND THEN
    RAISE EXCEPTION USING ERRCODE = 'VG002', MESSAGE = format('unknown job %s', p_job_id);
  END IF;
  RETURN v_job;
END;
$$;

REVOKE ALL ON FUNCTION vidgen_private.require_privileged_caller() FROM PUBLIC, anon, authenticated, service_role;
REVOKE ALL ON FUNCTION vidgen_private.require_positive(text, integer) FROM PUBLIC, anon, authenticated, service_role;
REVOKE ALL ON FUNCTION vidgen_private.lock_balance(uuid) FROM PUBLIC, anon, authenticated, service_role;
REVOKE ALL ON FUNCTION vidgen_private.lock_job(uuid) FROM PUBLIC, anon, authenticated, service_role;

-- Reserve p_amount credits for a job of p_user_id: true when reserved, false when the
-- balance is short (nothing changes). Idempotent per job: repeating the same reservation
-- returns true and reserves nothing more. The common case is three statements: mark the
-- job (which locks it), take the credits with a conditional UPDATE of the balance row
-- (at READ COMMITTED a concurrent reservation waits for the row and re-checks the
-- condition against the committed balance), and record the ledger row.
CREATE OR REPLACE FUNCTION public.reserve_credits(p_user_id uuid, p_job_id uuid, p_amount integer)
RETURNS boolean
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = ''
AS $$
DECLARE
  v_after integer;
BEGIN
  -- The checks are written out rather than called: this is the hottest path.
  IF pg_catalog.current_setting('role', true) IS DISTINCT FROM 'service_role' THEN
    PERFORM vidgen_private.require_privileged_caller();
  END IF;
  IF p_user_id IS NULL OR p_job_id IS NULL THEN
    RAISE EXCEPTION USING ERRCODE = '22004', MESSAGE = 'p_user_id and p_job_id must not be null';
  END IF;
  IF p_amount IS NULL OR p_amount <= 0 THEN
    PERFORM vidgen_private.require_positive('p_amount', p_amount);
  END IF;

  UPDATE public.jobs
     SET credit_state = 'reserved', cost_credits_reserved = p_amount
   WHERE id = p_job_id AND user_id = p_user_id AND credit_state = 'none';
  IF NOT FOUND THEN
    RETURN vidgen_private.reserve_credits_again(p_user_id, p_job_id, p_amount);
  END IF;

  UPDATE public.credit_balances
     SET balance = balance - p_amount, updated_at = pg_catalog.now()
   WHERE user_id = p_user_id AND balance >= p_amount
  RETURNING balance INTO v_after;
  IF NOT FOUND THEN
    UPDATE public.jobs SET credit_state = 'none', cost_credits_reserved = 0 WHERE id = p_job_id;
    RETURN false;
  END IF;

  INSERT INTO public.credit_ledger (user_id, type, amount, job_id, note, balance_after)
  VALUES (p_user_id, 'reserve', -p_amount, p_job_id, 'Reserved for job', v_after);
  RETURN true;
END;
$$;

-- Why a job could not be marked reserved: a retry of the same reservation (true), or an
-- error that says what is wrong.
CREATE FUNCTION vidgen_private.reserve_credits_again(p_user_id uuid, p_job_id uuid, p_amount integer)
RETURNS boolean
LANGUAGE plpgsql
SET search_path = ''
AS $$
DECLARE
  v_job public.jobs;
BEGIN
  v_job := vidgen_private.lock_job(p_job_id);
  IF v_job.user_id <> p_user_id THEN
    IF NOT EXISTS (SELECT 1 FROM public.profiles AS p WHERE p.id = p_user_id) THEN
      RAISE EXCEPTION USING ERRCODE = 'VG001', MESSAGE = format('unknown user %s', p_user_id);
    END IF;
    RAISE EXCEPTION USING ERRCODE = 'VG003',
      MESSAGE = format('job %s does not belong to user %s', p_job_id, p_user_id);
  END IF;
  CASE v_job.credit_state
    WHEN 'reserved' THEN
      IF v_job.cost_credits_reserved = p_amount THEN
        RETURN true;
      END IF;
      RAISE EXCEPTION USING ERRCODE = 'VG102',
        MESSAGE = format('job %s already has %s credits reserved, not %s',
                         p_job_id, v_job.cost_credits_reserved, p_amount);
    WHEN 'settled' THEN
      RAISE EXCEPTION USING ERRCODE = 'VG103',
        MESSAGE = format('job %s: credits were already settled', p_job_id);
    WHEN 'refunded' THEN
      RAISE EXCEPTION USING ERRCODE = 'VG104',
        MESSAGE = format('job %s: credits were already refunded', p_job_id);
    ELSE
      -- 'none' again: the job changed hands between the two statements; impossible while
      -- jobs.user_id cannot be updated, but never report success for it.
      RAISE EXCEPTION USING ERRCODE = '40001',
        MESSAGE = format('job %s changed while reserving; retry', p_job_id);
  END CASE;
END;
$$;

REVOKE ALL ON FUNCTION vidgen_private.reserve_credits_again(uuid, uuid, integer) FROM PUBLIC, anon, authenticated, service_role;

-- Turn a job's reservation into usage of p_final_amount: the reservation is released
-- and the usage recorded; when the final amount exceeds the reservation, the extra is
-- taken only as far as the balance allows. Exactly once: later calls change nothing and
-- return the same result. Returns the credits charged (jobs.cost_credits_final).
CREATE FUNCTION public.settle_job_credits(p_job_id uuid, p_final_amount integer)
RETURNS integer
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = ''
AS $$
DECLARE
  v_job public.jobs;
  v_balance integer;
  v_charge integer;
BEGIN
  PERFORM vidgen_private.require_privileged_caller();
  IF p_final_amount IS NULL OR p_final_amount < 0 THEN
    RAISE EXCEPTION USING ERRCODE = '22023',
      MESSAGE = format('p_final_amount must be zero or more, got %s', coalesce(p_final_amount::text, 'null'));
  END IF;
  v_job := vidgen_private.lock_job(p_job_id);
  CASE v_job.credit_state
    WHEN 'settled' THEN
      RETURN v_job.cost_credits_final;
    WHEN 'refunded' THEN
      RAISE EXCEPTION USING ERRCODE = 'VG104',
        MESSAGE = format('job %s: credits were already refunded', p_job_id);
    WHEN 'none' THEN
      RAISE EXCEPTION USING ERRCODE = 'VG105',
        MESSAGE = format('job %s has no credit reservation to settle', p_job_id);
    ELSE
      NULL;
  END CASE;

  v_balance := vidgen_private.lock_balance(v_job.user_id);
  -- The reservation is already off the balance; the extra beyond it must fit.
  v_charge := least(p_final_amount, v_job.cost_credits_reserved + v_balance);
  INSERT INTO public.credit_ledger (user_id, type, amount, job_id, note)
  VALUES (v_job.user_id, 'reserve', v_job.cost_credits_reserved, p_job_id,
          'Reservation released at settlement');
  IF v_charge > 0 THEN
    INSERT INTO public.credit_ledger (user_id, type, amount, job_id, note)
    VALUES (v_job.user_id, 'usage', -v_charge, p_job_id,
            CASE WHEN v_charge < p_final_amount
                 THEN format('Job usage (%s credits, capped at the available %s)', p_final_amount, v_charge)
                 ELSE 'Job usage' END);
  END IF;
  UPDATE public.jobs
     SET credit_state = 'settled', cost_credits_final = v_charge
   WHERE id = p_job_id;
  RETURN v_charge;
END;
$$;

-- Give a job's reservation back (a failed job). Exactly once, and never after a
-- settlement. Returns the credits given back (0 for a job that had none reserved).
CREATE FUNCTION public.refund_job_credits(p_job_id uuid)
RETURNS integer
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = ''
AS $$
DECLARE
  v_job public.jobs;
BEGIN
  PERFORM vidgen_private.require_privileged_caller();
  v_job := vidgen_private.lock_job(p_job_id);
  CASE v_job.credit_state
    WHEN 'refunded' THEN
      RETURN v_job.cost_credits_reserved;
    WHEN 'none' THEN
      RETURN 0;
    WHEN 'settled' THEN
      RAISE EXCEPTION USING ERRCODE = 'VG103',
        MESSAGE = format('job %s: credits were already settled and cannot be refunded', p_job_id);
    ELSE
      NULL;
  END CASE;
  PERFORM vidgen_private.lock_balance(v_job.user_id);
  INSERT INTO public.credit_ledger (user_id, type, amount, job_id, note)
  VALUES (v_job.user_id, 'refund', v_job.cost_credits_reserved, p_job_id, 'Refund for failed job');
  UPDATE public.jobs SET credit_state = 'refunded', cost_credits_final = 0 WHERE id = p_job_id;
  RETURN v_job.cost_credits_reserved;
END;
$$;

-- Grant credits (support, promotions). Returns the new balance.
CREATE FUNCTION public.grant_credits(p_user_id uuid, p_amount integer, p_note text DEFAULT NULL)
RETURNS integer
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = ''
AS $$
DECLARE
  v_after integer;
BEGIN
  PERFORM vidgen_private.require_privileged_caller();
  PERFORM vidgen_private.require_positive('p_amount', p_amount);
  PERFORM vidgen_private.lock_balance(p_user_id);
  INSERT INTO public.credit_ledger (user_id, type, amount, note)
  VALUES (p_user_id, 'grant', p_amount, coalesce(p_note, 'Credit grant'))
  RETURNING balance_after INTO v_after;
  RETURN v_after;
END;
$$;

-- Credit a payment once per Stripe payment id: a replayed webhook adds nothing and
-- returns the current balance; the same id with another user or amount is VG106.
CREATE FUNCTION public.record_purchase(p_user_id uuid, p_amount integer, p_stripe_payment_id text)
RETURNS integer
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = ''
AS $$
DECLARE
  v_balance integer;
  v_after integer;
  v_existing public.credit_ledger;
BEGIN
  PERFORM vidgen_private.require_privileged_caller();
  PERFORM vidgen_private.require_positive('p_amount', p_amount);
  IF p_stripe_payment_id IS NULL OR p_stripe_payment_id = '' THEN
    RAISE EXCEPTION USING ERRCODE = '22004', MESSAGE = 'p_stripe_payment_id must not be empty';
  END IF;
  v_balance := vidgen_private.lock_balance(p_user_id);
  -- A replay of a committed payment is seen here (the balance lock orders it after it).
  SELECT * INTO v_existing FROM public.credit_ledger AS l
   WHERE l.type = 'purchase' AND l.stripe_payment_id = p_stripe_payment_id;
  IF NOT FOUND THEN
    BEGIN
      INSERT INTO public.credit_ledger (user_id, type, amount, stripe_payment_id, note)
      VALUES (p_user_id, 'purchase', p_amount, p_stripe_payment_id, 'Credit purchase')
      RETURNING balance_after INTO v_after;
      RETURN v_after;
    EXCEPTION WHEN unique_violation THEN
      -- The same payment for another user, committed meanwhile.
      SELECT * INTO v_existing FROM public.credit_ledger AS l
       WHERE l.type = 'purchase' AND l.stripe_payment_id = p_stripe_payment_id;
    END;
  END IF;
  IF v_existing.user_id <> p_user_id OR v_existing.amount <> p_amount THEN
    RAISE EXCEPTION USING ERRCODE = 'VG106',
      MESSAGE = format('payment %s was already recorded for another user or amount', p_stripe_payment_id);
  END IF;
  RETURN v_balance;
END;
$$;

-- Expire up to p_amount credits (never below zero). Returns the credits expired.
CREATE FUNCTION public.expire_credits(p_user_id uuid, p_amount integer, p_note text DEFAULT NULL)
RETURNS integer
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = ''
AS $$
DECLARE
  v_balance integer;
  v_expired integer;
BEGIN
  PERFORM vidgen_private.require_privileged_caller();
  PERFORM vidgen_private.require_positive('p_amount', p_amount);
  v_balance := vidgen_private.lock_balance(p_user_id);
  v_expired := least(p_amount, v_balance);
  IF v_expired > 0 THEN
    INSERT INTO public.credit_ledger (user_id, type, amount, note)
    VALUES (p_user_id, 'expire', -v_expired, coalesce(p_note, 'Credits expired'));
  END IF;
  RETURN v_expired;
END;
$$;

REVOKE ALL ON FUNCTION public.reserve_credits(uuid, uuid, integer) FROM PUBLIC, anon, authenticated, service_role;
REVOKE ALL ON FUNCTION public.settle_job_credits(uuid, integer) FROM PUBLIC, anon, authenticated, service_role;
REVOKE ALL ON FUNCTION public.refund_job_credits(uuid) FROM PUBLIC, anon, authenticated, service_role;
REVOKE ALL ON FUNCTION public.grant_credits(uuid, integer, text) FROM PUBLIC, anon, authenticated, service_role;
REVOKE ALL ON FUNCTION public.record_purchase(uuid, integer, text) FROM PUBLIC, anon, authenticated, service_role;
REVOKE ALL ON FUNCTION public.expire_credits(uuid, integer, text) FROM PUBLIC, anon, authenticated, service_role;
GRANT EXECUTE ON FUNCTION public.reserve_credits(uuid, uuid, integer) TO service_role;
GRANT EXECUTE ON FUNCTION public.settle_job_credits(uuid, integer) TO service_role;
GRANT EXECUTE ON FUNCTION public.refund_job_credits(uuid) TO service_role;
GRANT EXECUTE ON FUNCTION public.grant_credits(uuid, integer, text) TO service_role;
GRANT EXECUTE ON FUNCTION public.record_purchase(uuid, integer, text) TO service_role;
GRANT EXECUTE ON FUNCTION public.expire_credits(uuid, integer, text) TO service_role;

-- The credit columns of jobs move only through these functions: the service role keeps
-- its other write access to jobs, column by column.
REVOKE INSERT, UPDATE ON TABLE public.jobs FROM service_role;
GRANT INSERT (id, project_id, user_id, status_message, manifest_json)
  ON TABLE public.jobs TO service_role;
GRANT UPDATE (status, progress, status_message, failed_step, error_code, error_message,
              output_url, manifest_json, started_at, finished_at)
  ON TABLE public.jobs TO service_role;
