-- Bounds on every text and jsonb column of the public tables, and on the text arguments of
-- the SQL functions that store text: no request can store megabytes in a title, a log line
-- or a grant note, and none turns into an HTTP 500 (a 10 MB payment id used to fail in
-- the unique index with 54000). docs/security.md lists the limits.
--
--   text   CHECK (char_length(col) <= N)             N characters
--   jsonb  CHECK (octet_length(col::text) <= N)      N bytes of the value's JSON text
--
-- Oversized writes fail with 23514 (check_violation, HTTP 400) before anything is stored:
-- PostgreSQL checks a row's constraints before it inserts its index entries. Function
-- arguments that are used before they are stored are checked on entry (22001, value too
-- long, HTTP 400); every other text argument lands in a bounded column.
--
-- Existing rows are brought within the bounds first, so every constraint is added
-- validated (one scan per table): text over its bound is cut to it; JSON over its bound
-- (which cannot be cut) is replaced by {"vidgen_removed_oversized_bytes": <its size>}; the
-- ledger's notes are cut with its append-only trigger off for that one statement. A
-- WARNING says how many rows of which table changed. The one exception is a Stripe
-- payment id over 255 characters (no real one is): cutting it could merge two payments,
-- so its constraint stays NOT VALID (still checked on every new row) and a WARNING says so.

DO $$
DECLARE
  v_rows integer;
  v_changed text[] := '{}';
BEGIN
  UPDATE public.profiles
     SET display_name = left(display_name, 100),
         avatar_url = left(avatar_url, 2048),
         notification_prefs = CASE WHEN octet_length(notification_prefs::text) > 4096
           THEN jsonb_build_object('vidgen_removed_oversized_bytes', octet_length(notification_prefs::text))
           ELSE notification_prefs END
   WHERE char_length(display_name) > 100 OR char_length(avatar_url) > 2048
      OR octet_length(notification_prefs::text) > 4096;
  GET DIAGNOSTICS v_rows = ROW_COUNT;
  IF v_rows > 0 THEN v_changed := v_changed || format('profiles: %s', v_rows); END IF;

  UPDATE public.projects
     SET title = left(title, 200),
         prompt_text = left(prompt_text, 20000),
         transcript_text = left(transcript_text, 50000),
         settings = CASE WHEN octet_length(settings::text) > 16384
           THEN jsonb_build_object('vidgen_removed_oversized_bytes', octet_length(settings::text))
           ELSE settings END
   WHERE char_length(title) > 200 OR char_length(prompt_text) > 20000
      OR char_length(transcript_text) > 50000 OR octet_length(settings::text) > 16384;
  GET DIAGNOSTICS v_rows = ROW_COUNT;
  IF v_rows > 0 THEN v_changed := v_changed || format('projects: %s', v_rows); END IF;

  UPDATE public.jobs
     SET status_message = left(status_message, 1000),
         failed_step = left(failed_step, 64),
         error_code = left(error_code, 100),
         error_message = left(error_message, 4000),
         output_url = left(output_url, 2048),
         manifest_json = CASE WHEN octet_length(manifest_json::text) > 65536
           THEN jsonb_build_object('vidgen_removed_oversized_bytes', octet_length(manifest_json::text))
           ELSE manifest_json END
   WHERE char_length(status_message) > 1000 OR char_length(failed_step) > 64
      OR char_length(error_code) > 100 OR char_length(error_message) > 4000
      OR char_length(output_url) > 2048 OR octet_length(manifest_json::text) > 65536;
  GET DIAGNOSTICS v_rows = ROW_COUNT;
  IF v_rows > 0 THEN v_changed := v_changed || format('jobs: %s', v_rows); END IF;

  -- step_name is one of the pipeline's stages: never over 64 characters.
  UPDATE public.job_steps
     SET status_message = left(status_message, 1000),
         error_message = left(error_message, 4000),
         logs_url = left(logs_url, 2048),
         artifacts_json = CASE WHEN octet_length(artifacts_json::text) > 65536
           THEN jsonb_build_object('vidgen_removed_oversized_bytes', octet_length(artifacts_json::text))
           ELSE artifacts_json END
   WHERE char_length(status_message) > 1000 OR char_length(error_message) > 4000
      OR char_length(logs_url) > 2048 OR octet_length(artifacts_json::text) > 65536;
  GET DIAGNOSTICS v_rows = ROW_COUNT;
  IF v_rows > 0 THEN v_changed := v_changed || format('job_steps: %s', v_rows); END IF;

  UPDATE public.job_logs
     SET step_name = left(step_name, 64),
         message = left(message, 4000),
         data = CASE WHEN octet_length(data::text) > 16384
           THEN jsonb_build_object('vidgen_removed_oversized_bytes', octet_length(data::text))
           ELSE data END
   WHERE char_length(step_name) > 64 OR char_length(message) > 4000
      OR octet_length(data::text) > 16384;
  GET DIAGNOSTICS v_rows = ROW_COUNT;
  IF v_rows > 0 THEN v_changed := v_changed || format('job_logs: %s', v_rows); END IF;

  UPDATE public.assets
     SET url = left(url, 2048),
         storage_path = left(storage_path, 1024),
         mime_type = left(mime_type, 255),
         metadata_json = CASE WHEN octet_length(metadata_json::text) > 16384
           THEN jsonb_build_object('vidgen_removed_oversized_bytes', octet_length(metadata_json::text))
           ELSE metadata_json END
   WHERE char_length(url) > 2048 OR char_length(storage_path) > 1024
      OR char_length(mime_type) > 255 OR octet_length(metadata_json::text) > 16384;
  GET DIAGNOSTICS v_rows = ROW_COUNT;
  IF v_rows > 0 THEN v_changed := v_changed || format('assets: %s', v_rows); END IF;

  UPDATE public.draft_prompts
     SET template_id = left(template_id, 100),
         options = CASE WHEN octet_length(options::text) > 16384
           THEN jsonb_build_object('vidgen_removed_oversized_bytes', octet_length(options::text))
           ELSE options END
   WHERE char_length(template_id) > 100 OR octet_length(options::text) > 16384;
  GET DIAGNOSTICS v_rows = ROW_COUNT;
  IF v_rows > 0 THEN v_changed := v_changed || format('draft_prompts: %s', v_rows); END IF;

  IF EXISTS (SELECT 1 FROM public.credit_ledger AS l WHERE char_length(l.note) > 500) THEN
    ALTER TABLE public.credit_ledger DISABLE TRIGGER tr_credit_ledger_protect;
    UPDATE public.credit_ledger SET note = left(note, 500) WHERE char_length(note) > 500;
    GET DIAGNOSTICS v_rows = ROW_COUNT;
    ALTER TABLE public.credit_ledger ENABLE TRIGGER tr_credit_ledger_protect;
    v_changed := v_changed || format('credit_ledger (notes): %s', v_rows);
  END IF;

  IF v_changed <> '{}' THEN
    RAISE WARNING 'rows brought within the new bounds (text cut, oversized JSON replaced): %',
      array_to_string(v_changed, ', ');
  END IF;
END
$$;

ALTER TABLE public.profiles
  ADD CONSTRAINT profiles_display_name_length_check CHECK (char_length(display_name) <= 100),
  ADD CONSTRAINT profiles_avatar_url_length_check CHECK (char_length(avatar_url) <= 2048),
  ADD CONSTRAINT profiles_stripe_customer_id_length_check CHECK (char_length(stripe_customer_id) <= 255),
  ADD CONSTRAINT profiles_notification_prefs_size_check
    CHECK (octet_length(notification_prefs::text) <= 4096);

ALTER TABLE public.projects
  ADD CONSTRAINT projects_title_length_check CHECK (char_length(title) <= 200),
  -- As long as a visitor's draft (draft_prompts.prompt_text): a claimed draft fits.
  ADD CONSTRAINT projects_prompt_text_length_check CHECK (char_length(prompt_text) <= 20000),
  ADD CONSTRAINT projects_transcript_text_length_check CHECK (char_length(transcript_text) <= 50000),
  ADD CONSTRAINT projects_settings_size_check CHECK (octet_length(settings::text) <= 16384);

ALTER TABLE public.jobs
  ADD CONSTRAINT jobs_status_message_length_check CHECK (char_length(status_message) <= 1000),
  ADD CONSTRAINT jobs_failed_step_length_check CHECK (char_length(failed_step) <= 64),
  ADD CONSTRAINT jobs_error_code_length_check CHECK (char_length(error_code) <= 100),
  -- The SDK cuts the message of a failed step to 4000 characters (MAX_ERROR_MESSAGE).
  ADD CONSTRAINT jobs_error_message_length_check CHECK (char_length(error_message) <= 4000),
  ADD CONSTRAINT jobs_output_url_length_check CHECK (char_length(output_url) <= 2048),
  ADD CONSTRAINT jobs_manifest_json_size_check CHECK (octet_length(manifest_json::text) <= 65536);

ALTER TABLE public.job_steps
  ADD CONSTRAINT job_steps_step_name_length_check CHECK (char_length(step_name) <= 64),
  ADD CONSTRAINT job_steps_status_message_length_check CHECK (char_length(status_message) <= 1000),
  ADD CONSTRAINT job_steps_error_message_length_check CHECK (char_length(error_message) <= 4000),
  ADD CONSTRAINT job_steps_logs_url_length_check CHECK (char_length(logs_url) <= 2048),
  ADD CONSTRAINT job_steps_artifacts_json_size_check CHECK (octet_length(artifacts_json::text) <= 65536);

ALTER TABLE public.job_logs
  ADD CONSTRAINT job_logs_step_name_length_check CHECK (char_length(step_name) <= 64),
  ADD CONSTRAINT job_logs_message_length_check CHECK (char_length(message) <= 4000),
  ADD CONSTRAINT job_logs_data_size_check CHECK (octet_length(data::text) <= 16384);

ALTER TABLE public.assets
  ADD CONSTRAINT assets_url_length_check CHECK (char_length(url) <= 2048),
  ADD CONSTRAINT assets_storage_path_length_check CHECK (char_length(storage_path) <= 1024),
  ADD CONSTRAINT assets_mime_type_length_check CHECK (char_length(mime_type) <= 255),
  ADD CONSTRAINT assets_metadata_json_size_check CHECK (octet_length(metadata_json::text) <= 16384);

-- Visitors (anon) write drafts: session_token and prompt_text were bounded from the start.
ALTER TABLE public.draft_prompts
  ADD CONSTRAINT draft_prompts_template_id_length_check CHECK (char_length(template_id) <= 100),
  ADD CONSTRAINT draft_prompts_options_size_check CHECK (octet_length(options::text) <= 16384);

ALTER TABLE public.credit_ledger
  ADD CONSTRAINT credit_ledger_note_length_check CHECK (char_length(note) <= 500),
  ADD CONSTRAINT credit_ledger_stripe_payment_id_length_check
    CHECK (char_length(stripe_payment_id) <= 255) NOT VALID;

DO $$
BEGIN
  ALTER TABLE public.credit_ledger VALIDATE CONSTRAINT credit_ledger_stripe_payment_id_length_check;
EXCEPTION WHEN check_violation THEN
  RAISE WARNING 'credit_ledger_stripe_payment_id_length_check stays NOT VALID: a recorded payment id is over 255 characters'
    USING HINT = 'new rows are checked; correct the old ones, then VALIDATE CONSTRAINT';
END
$$;

-- A sign-up's display name comes from the metadata the visitor chose: cut it to the
-- column's bound rather than refuse the sign-up.
CREATE OR REPLACE FUNCTION public.handle_new_user() RETURNS trigger
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = ''
AS $$
BEGIN
  INSERT INTO public.profiles (id, display_name)
  VALUES (NEW.id, left(NEW.raw_user_meta_data ->> 'name', 100));

  INSERT INTO public.credit_ledger (user_id, type, amount, note)
  VALUES (NEW.id, 'grant', 10, 'Welcome bonus: 1 free video trial');

  RETURN NEW;
END;
$$;

-- 22001 (value too long) when p_value is over p_max characters.
CREATE FUNCTION vidgen_private.require_max_length(p_name text, p_value text, p_max integer)
RETURNS void
LANGUAGE plpgsql IMMUTABLE
SET search_path = ''
AS $$
BEGIN
  IF pg_catalog.char_length(p_value) > p_max THEN
    RAISE EXCEPTION USING ERRCODE = '22001',
      MESSAGE = format('%s must be at most %s characters, got %s',
                       p_name, p_max, pg_catalog.char_length(p_value));
  END IF;
END;
$$;

REVOKE ALL ON FUNCTION vidgen_private.require_max_length(text, text, integer) FROM PUBLIC, anon, authenticated, service_role;

-- The payment id is looked up before it is stored: checked on entry. Otherwise as in
-- 20260202000000_credit_functions.sql.
CREATE OR REPLACE FUNCTION public.record_purchase(p_user_id uuid, p_amount integer, p_stripe_payment_id text)
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
  PERFORM vidgen_private.require_max_length('p_stripe_payment_id', p_stripe_payment_id, 255);
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

-- The session token is only looked up: a token over the column's bound cannot match, and
-- is refused on entry. Otherwise as in 20260118000000_draft_prompts_job_steps.sql.
CREATE OR REPLACE FUNCTION public.claim_draft_prompt(p_session_token text, p_user_id uuid)
RETURNS uuid
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = ''
AS $$
DECLARE
  v_draft_id uuid;
BEGIN
  IF p_session_token IS NULL OR p_user_id IS NULL THEN
    RAISE EXCEPTION USING ERRCODE = '22004',
      MESSAGE = 'p_session_token and p_user_id must not be null';
  END IF;
  PERFORM vidgen_private.require_max_length('p_session_token', p_session_token, 256);
  IF NOT vidgen_private.caller_is_privileged()
     AND (vidgen_private.caller_role() <> 'authenticated'
          OR p_user_id IS DISTINCT FROM (SELECT auth.uid())) THEN
    RAISE EXCEPTION USING ERRCODE = '42501',
      MESSAGE = 'permission denied: a user may only claim drafts for themselves';
  END IF;

  WITH claimed AS (
    UPDATE public.draft_prompts
       SET user_id = p_user_id
     WHERE session_token = p_session_token
       AND user_id IS NULL
       AND expires_at > pg_catalog.now()
    RETURNING id, created_at
  )
  SELECT c.id INTO v_draft_id FROM claimed AS c ORDER BY c.created_at DESC, c.id LIMIT 1;

  RETURN v_draft_id;
END;
$$;
