-- Expired visitor drafts are deleted by the database's clock, not a client's: a client
-- whose clock runs ahead would otherwise delete drafts that are still live.
CREATE FUNCTION public.delete_expired_drafts() RETURNS integer
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = ''
AS $$
DECLARE
  v_deleted integer;
BEGIN
  PERFORM vidgen_private.require_privileged_caller();
  -- Claimed drafts belong to a user and are kept.
  DELETE FROM public.draft_prompts
   WHERE user_id IS NULL AND expires_at <= pg_catalog.now();
  GET DIAGNOSTICS v_deleted = ROW_COUNT;
  RETURN v_deleted;
END;
$$;

REVOKE ALL ON FUNCTION public.delete_expired_drafts() FROM PUBLIC, anon, authenticated, service_role;
GRANT EXECUTE ON FUNCTION public.delete_expired_drafts() TO service_role;
