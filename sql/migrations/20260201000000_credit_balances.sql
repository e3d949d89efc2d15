-- Constant-time, race-free credit balances and an append-only ledger.
--
-- The PRD computed a balance as SUM(amount) over the user's whole ledger (slower as a user
-- ages) and nothing kept two reservations from spending the same credits. Here each user
-- has one balance row, changed by a trigger in the same transaction as every ledger
-- insert (which also fills balance_after). The row's CHECK keeps it from going below zero
-- whoever inserts; functions that must not fail on a short balance lock the row first
-- (SELECT ... FOR UPDATE reads the latest committed balance at READ COMMITTED, which is
-- how PostgREST runs every request).

CREATE TABLE public.credit_balances (
  user_id uuid PRIMARY KEY REFERENCES auth.users (id) ON DELETE CASCADE,
  balance integer NOT NULL DEFAULT 0 CHECK (balance >= 0),
  updated_at timestamptz NOT NULL DEFAULT now()
);

ALTER TABLE public.credit_balances ENABLE ROW LEVEL SECURITY;
REVOKE ALL ON TABLE public.credit_balances FROM PUBLIC, anon, authenticated, service_role;

CREATE POLICY credit_balances_select ON public.credit_balances
  FOR SELECT TO authenticated
  USING ((SELECT auth.uid()) = user_id);

-- Read-only for everyone: only the ledger trigger writes balances.
GRANT SELECT ON TABLE public.credit_balances TO authenticated, service_role;

-- Backfill from the ledger as it stands (balance_after as a running sum).
INSERT INTO public.credit_balances (user_id, balance)
SELECT l.user_id, greatest(sum(l.amount), 0)::integer
  FROM public.credit_ledger AS l
 GROUP BY l.user_id;

UPDATE public.credit_ledger AS l
   SET balance_after = r.running
  FROM (SELECT id, sum(amount) OVER (PARTITION BY user_id ORDER BY created_at, id)::integer AS running
          FROM public.credit_ledger) AS r
 WHERE r.id = l.id AND l.balance_after IS NULL;

-- Every ledger insert moves the balance by its amount and records the result in
-- balance_after. The credit functions on hot paths (reserve_credits) move the balance
-- themselves and insert the row with balance_after already set, which skips this
-- trigger; nobody else can set balance_after (see the grants below).
-- SECURITY DEFINER: callers need no privilege on credit_balances.
CREATE FUNCTION vidgen_private.apply_ledger_entry() RETURNS trigger
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = ''
AS $$
BEGIN
  UPDATE public.credit_balances
     SET balance = balance + NEW.amount, updated_at = pg_catalog.now()
   WHERE user_id = NEW.user_id
  RETURNING balance INTO NEW.balance_after;
  IF NOT FOUND THEN
    INSERT INTO public.credit_balances AS b (user_id, balance)
    VALUES (NEW.user_id, NEW.amount)
    ON CONFLICT (user_id) DO UPDATE
      SET balance = b.balance + EXCLUDED.balance, updated_at = pg_catalog.now()
    RETURNING balance INTO NEW.balance_after;
  END IF;
  RETURN NEW;
END;
$$;

-- The ledger is append-only for every role. The only changes allowed are the ones
-- PostgreSQL makes for its foreign keys: clearing job_id when a job is deleted, and
-- deleting the rows of a user who is being deleted.
CREATE FUNCTION vidgen_private.protect_ledger() RETURNS trigger
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = ''
AS $$
BEGIN
  IF TG_OP = 'UPDATE' THEN
    IF OLD.job_id IS NOT NULL AND NEW.job_id IS NULL
       AND (NEW.id, NEW.user_id, NEW.type, NEW.amount, NEW.balance_after, NEW.note,
            NEW.stripe_payment_id, NEW.created_at)
           IS NOT DISTINCT FROM
           (OLD.id, OLD.user_id, OLD.type, OLD.amount, OLD.balance_after, OLD.note,
            OLD.stripe_payment_id, OLD.created_at) THEN
      RETURN NEW;
    END IF;
  ELSIF TG_OP = 'DELETE' THEN
    IF NOT EXISTS (SELECT 1 FROM auth.users AS u WHERE u.id = OLD.user_id) THEN
      RETURN OLD;
    END IF;
  END IF;
  RAISE EXCEPTION USING ERRCODE = '42501',
    MESSAGE = format('credit_ledger is append-only: %s is not allowed', TG_OP),
    HINT = 'record a correction as a new ledger entry';
END;
$$;

REVOKE ALL ON FUNCTION vidgen_private.apply_ledger_entry() FROM PUBLIC, anon, authenticated, service_role;
REVOKE ALL ON FUNCTION vidgen_private.protect_ledger() FROM PUBLIC, anon, authenticated, service_role;

CREATE TRIGGER tr_credit_ledger_apply
BEFORE INSERT ON public.credit_ledger
FOR EACH ROW WHEN (NEW.balance_after IS NULL)
EXECUTE FUNCTION vidgen_private.apply_ledger_entry();

-- The service role may insert ledger rows, but never choose their balance_after.
REVOKE INSERT ON TABLE public.credit_ledger FROM service_role;
GRANT INSERT (id, user_id, type, amount, note, job_id, stripe_payment_id)
  ON TABLE public.credit_ledger TO service_role;

CREATE TRIGGER tr_credit_ledger_protect
BEFORE UPDATE OR DELETE ON public.credit_ledger
FOR EACH ROW EXECUTE FUNCTION vidgen_private.protect_ledger();

CREATE TRIGGER tr_credit_ledger_no_truncate
BEFORE TRUNCATE ON public.credit_ledger
FOR EACH STATEMENT EXECUTE FUNCTION vidgen_private.protect_ledger();

-- Rows of one transaction (a settlement's release and usage) must keep their order in a
-- user's history: the wall clock at insert, not the transaction's start time.
ALTER TABLE public.credit_ledger ALTER COLUMN created_at SET DEFAULT clock_timestamp();

-- A payment is credited once: replayed webhooks hit this index.
CREATE UNIQUE INDEX idx_credit_purchase_payment ON public.credit_ledger (stripe_payment_id)
  WHERE type = 'purchase' AND stripe_payment_id IS NOT NULL;

-- get_credit_balance keeps its signature and checks; it now reads one row.
CREATE OR REPLACE FUNCTION public.get_credit_balance(p_user_id uuid) RETURNS integer
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
  RETURN coalesce((SELECT b.balance FROM public.credit_balances AS b WHERE b.user_id = p_user_id), 0);
END;
$$;

-- Where a job's credits stand: none reserved yet, reserved, settled (usage recorded) or
-- refunded. The credit functions move it; nothing else may.
ALTER TABLE public.jobs
  ADD COLUMN credit_state text NOT NULL DEFAULT 'none'
    CHECK (credit_state IN ('none', 'reserved', 'settled', 'refunded'));

-- Jobs are updated many times each (credits, status, progress): leave room on each page
-- so that updates of unindexed columns stay on the page (HOT) and skip index writes.
ALTER TABLE public.jobs SET (fillfactor = 80);
