-- Initial schema: shared helpers used by every later migration.
--
-- vidgen_private holds helper functions that policies and SQL functions call. It is not
-- exposed by PostgREST (only `public` is), so nothing in it is callable over HTTP.

CREATE SCHEMA IF NOT EXISTS vidgen_private;
REVOKE ALL ON SCHEMA vidgen_private FROM PUBLIC;
GRANT USAGE ON SCHEMA vidgen_private TO anon, authenticated, service_role;

-- The role a request runs as: the role PostgREST switched to (even inside a SECURITY
-- DEFINER function, where current_user is the function's owner), else the session's.
CREATE FUNCTION vidgen_private.caller_role() RETURNS text
LANGUAGE sql STABLE
SET search_path = ''
AS $$
  SELECT coalesce(nullif(pg_catalog.current_setting('role', true), 'none'), session_user::text)
$$;

-- True for the service role and for roles that bypass RLS anyway (superusers, the
-- database owner on Supabase): callers that may act on behalf of any user.
CREATE FUNCTION vidgen_private.caller_is_privileged() RETURNS boolean
LANGUAGE sql STABLE
SET search_path = ''
AS $$
  SELECT vidgen_private.caller_role() = 'service_role' OR coalesce(
    (SELECT r.rolsuper OR r.rolbypassrls
       FROM pg_catalog.pg_roles AS r
      WHERE r.rolname = vidgen_private.caller_role()),
    false)
$$;

REVOKE ALL ON FUNCTION vidgen_private.caller_role() FROM PUBLIC, anon;
REVOKE ALL ON FUNCTION vidgen_private.caller_is_privileged() FROM PUBLIC, anon;
GRANT EXECUTE ON FUNCTION vidgen_private.caller_role() TO authenticated, service_role;
GRANT EXECUTE ON FUNCTION vidgen_private.caller_is_privileged() TO authenticated, service_role;

-- PRD section 6: keeps updated_at current on every table that has the column.
CREATE FUNCTION public.update_updated_at() RETURNS trigger
LANGUAGE plpgsql
SET search_path = ''
AS $$
BEGIN
  NEW.updated_at = pg_catalog.now();
  RETURN NEW;
END;
$$;

REVOKE ALL ON FUNCTION public.update_updated_at() FROM PUBLIC, anon, authenticated, service_role;
