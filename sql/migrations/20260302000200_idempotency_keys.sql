-- Idempotency keys, as Stripe's, for the writes that are not idempotent by nature:
-- grant_credits, expire_credits and append_job_log take p_idempotency_key (last, DEFAULT
-- NULL). A call with a key the database has seen for that function:
--   * with the same arguments returns the first call's result and changes nothing (a
--     retry after a lost response grants once, expires once, logs one line);
--   * with other arguments is VG107 ("idempotency key reused with different arguments").
-- Keys live in the database, one row per (function, key) in vidgen_private.idempotency_keys
-- with a hash of the arguments and the result, so they hold across processes and
-- restarts. A concurrent call with the same key waits for the first to commit (on the
-- key's unique index) and then returns its result: the work is done once. A call that
-- failed leaves no key (its transaction rolled back): retrying it runs it again.
-- The SDK sends a key with every such call (a new one per call, reused by its own retries);
-- without one a call behaves as before. (record_purchase is once per payment id, and the
-- job transitions are idempotent by design: they take no key.)
--
-- Keys are kept: those of a job's log lines go with the job, those of a user's credit
-- moves with the user. Errors: VG107, and 22001 for a key over 255 characters.

CREATE TABLE vidgen_private.idempotency_keys (
  -- The function the key was used with: the same key may name one request per function.
  scope text NOT NULL,
  key text NOT NULL CHECK (char_length(key) BETWEEN 1 AND 255),
  -- sha256 of the arguments (as a JSON array): what "the same request" means.
  request_hash bytea NOT NULL,
  -- The first call's result (set before it commits).
  result jsonb,
  user_id uuid REFERENCES auth.users (id) ON DELETE CASCADE,
  job_id uuid REFERENCES public.jobs (id) ON DELETE CASCADE,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (scope, key)
);

CREATE INDEX idx_idempotency_keys_user ON vidgen_private.idempotency_keys (user_id)
  WHERE user_id IS NOT NULL;
CREATE INDEX idx_idempotency_keys_job ON vidgen_private.idempotency_keys (job_id)
  WHERE job_id IS NOT NULL;

-- Only the functions below (SECURITY DEFINER, as their owner) read and write keys.
ALTER TABLE vidgen_private.idempotency_keys ENABLE ROW LEVEL SECURITY;
REVOKE ALL ON TABLE vidgen_private.idempotency_keys FROM PUBLIC, anon, authenticated, service_role;

-- Start a call named by p_key: NULL when the key is new for p_scope (the caller does the
-- work, then records its result with idempotency_finish), else the first call's result.
-- VG107 when the key was used with other arguments. Take the key after the call's first
-- lock (its job or its user's balance) and before any other, so calls cannot deadlock.
CREATE FUNCTION vidgen_private.idempotency_begin(p_scope text, p_key text, p_request jsonb,
                                                 p_user_id uuid DEFAULT NULL,
                                                 p_job_id uuid DEFAULT NULL)
RETURNS jsonb
LANGUAGE plpgsql
SET search_path = ''
AS $$
DECLARE
  v_hash bytea := pg_catalog.sha256(pg_catalog.convert_to(p_request::text, 'UTF8'));
  v_key vidgen_private.idempotency_keys;
BEGIN
  IF p_key = '' THEN
    RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = 'p_idempotency_key must not be empty';
  END IF;
  PERFORM vidgen_private.require_max_length('p_idempotency_key', p_key, 255);
  LOOP
    -- Waits for a concurrent call with this key to commit or roll back.
    INSERT INTO vidgen_private.idempotency_keys (scope, key, request_hash, user_id, job_id)
    VALUES (p_scope, p_key, v_hash, p_user_id, p_job_id)
    ON CONFLICT (scope, key) DO NOTHING;
    IF FOUND THEN
      RETURN NULL;
    END IF;
    SELECT * INTO v_key FROM vidgen_private.idempotency_keys AS k
     WHERE k.scope = p_scope AND k.key = p_key;
    EXIT WHEN FOUND;  -- else deleted meanwhile (its job or user went): try again
  END LOOP;
  IF v_key.request_hash <> v_hash THEN
    RAISE EXCEPTION USING ERRCODE = 'VG107',
      MESSAGE = format('idempotency key %s was already used with different arguments (%s)',
                       p_key, p_scope),
      HINT = 'an idempotency key names one request: use a new key for a new request';
  END IF;
  RETURN v_key.result;
END;
$$;

CREATE FUNCTION vidgen_private.idempotency_finish(p_scope text, p_key text, p_result jsonb)
RETURNS void
LANGUAGE sql
SET search_path = ''
AS $$
  UPDATE vidgen_private.idempotency_keys
     SET result = p_result
   WHERE scope = p_scope AND key = p_key
$$;

REVOKE ALL ON FUNCTION vidgen_private.idempotency_begin(text, text, jsonb, uuid, uuid) FROM PUBLIC, anon, authenticated, service_role;
REVOKE ALL ON FUNCTION vidgen_private.idempotency_finish(text, text, jsonb) FROM PUBLIC, anon, authenticated, service_role;

-- The three functions again, with the key as their last argument (PostgREST cannot tell
-- overloads apart: the old signatures go).
DROP FUNCTION public.grant_credits(uuid, integer, text);
DROP FUNCTION public.expire_credits(uuid, integer, text);
DROP FUNCTION public.append_job_log(uuid, text, text, text, jsonb, bigint);

-- Grant credits (support, promotions). Returns the new balance (a repeat: the balance the
-- first call returned).
CREATE FUNCTION public.grant_credits(p_user_id uuid, p_amount integer, p_note text DEFAULT NULL,
                                     p_idempotency_key text DEFAULT NULL)
RETURNS integer
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = ''
AS $$
DECLARE
  v_note text := coalesce(p_note, 'Credit grant');
  v_first jsonb;
  v_after integer;
BEGIN
  PERFORM vidgen_private.require_privileged_caller();
  PERFORM vidgen_private.require_positive('p_amount', p_amount);
  PERFORM vidgen_private.require_max_length('p_note', p_note, 500);
  PERFORM vidgen_private.lock_balance(p_user_id);
  IF p_idempotency_key IS NOT NULL THEN
    v_first := vidgen_private.idempotency_begin('grant_credits', p_idempotency_key,
                 pg_catalog.jsonb_build_array(p_user_id, p_amount, v_note), p_user_id);
    IF v_first IS NOT NULL THEN
      RETURN v_first::integer;
    END IF;
  END IF;
  INSERT INTO public.credit_ledger (user_id, type, amount, note)
  VALUES (p_user_id, 'grant', p_amount, v_note)
  RETURNING balance_after INTO v_after;
  IF p_idempotency_key IS NOT NULL THEN
    PERFORM vidgen_private.idempotency_finish('grant_credits', p_idempotency_key,
                                              pg_catalog.to_jsonb(v_after));
  END IF;
  RETURN v_after;
END;
$$;

-- Expire up to p_amount credits (never below zero). Returns the credits expired (a repeat:
-- what the first call expired).
CREATE FUNCTION public.expire_credits(p_user_id uuid, p_amount integer, p_note text DEFAULT NULL,
                                      p_idempotency_key text DEFAULT NULL)
RETURNS integer
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = ''
AS $$
DECLARE
  v_note text := coalesce(p_note, 'Credits expired');
  v_first jsonb;
  v_balance integer;
  v_expired integer;
BEGIN
  PERFORM vidgen_private.require_privileged_caller();
  PERFORM vidgen_private.require_positive('p_amount', p_amount);
  PERFORM vidgen_private.require_max_length('p_note', p_note, 500);
  v_balance := vidgen_private.lock_balance(p_user_id);
  IF p_idempotency_key IS NOT NULL THEN
    v_first := vidgen_private.idempotency_begin('expire_credits', p_idempotency_key,
                 pg_catalog.jsonb_build_array(p_user_id, p_amount, v_note), p_user_id);
    IF v_first IS NOT NULL THEN
      RETURN v_first::integer;
    END IF;
  END IF;
  v_expired := least(p_amount, v_balance);
  IF v_expired > 0 THEN
    INSERT INTO public.credit_ledger (user_id, type, amount, note)
    VALUES (p_user_id, 'expire', -v_expired, v_note);
  END IF;
  IF p_idempotency_key IS NOT NULL THEN
    PERFORM vidgen_private.idempotency_finish('expire_credits', p_idempotency_key,
                                              pg_catalog.to_jsonb(v_expired));
  END IF;
  RETURN v_expired;
END;
$$;

-- Append a log line to a job; returns its number in the job (a repeat: the first call's).
-- The job is locked first (the numbering trigger would lock it anyway), then the key.
CREATE FUNCTION public.append_job_log(p_job_id uuid, p_message text, p_level text DEFAULT 'info',
                                      p_step_name text DEFAULT NULL, p_data jsonb DEFAULT NULL,
                                      p_lease bigint DEFAULT NULL,
                                      p_idempotency_key text DEFAULT NULL)
RETURNS bigint
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = ''
AS $$
DECLARE
  v_level text := coalesce(p_level, 'info');
  v_job public.jobs;
  v_first jsonb;
  v_line integer;
BEGIN
  PERFORM vidgen_private.require_privileged_caller();
  IF p_message IS NULL THEN
    RAISE EXCEPTION USING ERRCODE = '22004', MESSAGE = 'p_message must not be null';
  END IF;
  -- Checked on entry: they are hashed before they are stored.
  PERFORM vidgen_private.require_max_length('p_message', p_message, 4000);
  PERFORM vidgen_private.require_max_length('p_step_name', p_step_name, 64);
  IF pg_catalog.octet_length(p_data::text) > 16384 THEN
    RAISE EXCEPTION USING ERRCODE = '22001',
      MESSAGE = format('p_data must be at most 16384 bytes as JSON text, got %s',
                       pg_catalog.octet_length(p_data::text));
  END IF;
  IF p_lease IS NULL THEN
    SELECT * INTO v_job FROM public.jobs AS j WHERE j.id = p_job_id FOR NO KEY UPDATE;
    IF NOT FOUND THEN
      RAISE EXCEPTION USING ERRCODE = 'VG002', MESSAGE = format('unknown job %s', p_job_id);
    END IF;
  ELSE
    v_job := vidgen_private.lock_job(p_job_id);
  END IF;
  IF p_idempotency_key IS NOT NULL THEN
    v_first := vidgen_private.idempotency_begin('append_job_log', p_idempotency_key,
                 pg_catalog.jsonb_build_array(p_job_id, p_message, v_level, p_step_name, p_data),
                 NULL, p_job_id);
    IF v_first IS NOT NULL THEN
      RETURN v_first::bigint;  -- the line was written under the lease of the first call
    END IF;
  END IF;
  PERFORM vidgen_private.use_lease(v_job, p_lease);
  INSERT INTO public.job_logs (job_id, step_name, level, message, data)
  VALUES (p_job_id, p_step_name, v_level, p_message, p_data)
  RETURNING line_no INTO v_line;
  IF p_idempotency_key IS NOT NULL THEN
    PERFORM vidgen_private.idempotency_finish('append_job_log', p_idempotency_key,
                                              pg_catalog.to_jsonb(v_line));
  END IF;
  RETURN v_line;
END;
$$;

REVOKE ALL ON FUNCTION public.grant_credits(uuid, integer, text, text) FROM PUBLIC, anon, authenticated, service_role;
REVOKE ALL ON FUNCTION public.expire_credits(uuid, integer, text, text) FROM PUBLIC, anon, authenticated, service_role;
REVOKE ALL ON FUNCTION public.append_job_log(uuid, text, text, text, jsonb, bigint, text) FROM PUBLIC, anon, authenticated, service_role;
GRANT EXECUTE ON FUNCTION public.grant_credits(uuid, integer, text, text) TO service_role;
GRANT EXECUTE ON FUNCTION public.expire_credits(uuid, integer, text, text) TO service_role;
GRANT EXECUTE ON FUNCTION public.append_job_log(uuid, text, text, text, jsonb, bigint, text) TO service_role;
