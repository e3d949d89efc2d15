-- Supabase's database linter (splinter) warned authenticated_security_definer_function_executable
-- (lint 0029) on claim_draft_prompt: a SECURITY DEFINER function in the API schema that
-- signed-in users may execute. As with cancel_job (20260301000000_worker_fleet.sql), the
-- privileged work moves to the private schema, which PostgREST does not expose, and the
-- data API keeps a SECURITY INVOKER entry point of the same name and signature.
--
-- The function is moved as it stands (whatever the migrations before this one made of it):
-- SECURITY DEFINER, its empty search_path, its checks (a signed-in user claims for
-- themselves only, 42501 otherwise) and its EXECUTE grants go with it.

ALTER FUNCTION public.claim_draft_prompt(text, uuid) SET SCHEMA vidgen_private;

REVOKE ALL ON FUNCTION vidgen_private.claim_draft_prompt(text, uuid) FROM PUBLIC, anon, authenticated, service_role;
GRANT EXECUTE ON FUNCTION vidgen_private.claim_draft_prompt(text, uuid) TO authenticated, service_role;

-- The data API's entry point: runs as the caller; the work, and the check of who may claim
-- for whom, are in vidgen_private.claim_draft_prompt.
CREATE FUNCTION public.claim_draft_prompt(p_session_token text, p_user_id uuid)
RETURNS uuid
LANGUAGE sql
SECURITY INVOKER
SET search_path = ''
AS $$
  SELECT vidgen_private.claim_draft_prompt(p_session_token, p_user_id)
$$;

REVOKE ALL ON FUNCTION public.claim_draft_prompt(text, uuid) FROM PUBLIC, anon, authenticated, service_role;
GRANT EXECUTE ON FUNCTION public.claim_draft_prompt(text, uuid) TO authenticated, service_role;
