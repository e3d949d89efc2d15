-- draft_prompts: prompts visitors write before signing up, claimed after (PRD section 4).

CREATE TABLE public.draft_prompts (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  -- The visitor's secret: whoever knows it may claim the draft, so it must not be
  -- guessable (at least 16 characters).
  session_token text NOT NULL CHECK (char_length(session_token) BETWEEN 16 AND 256),
  user_id uuid REFERENCES auth.users (id) ON DELETE CASCADE,
  -- Anonymous visitors can write this table: bound what one row may hold.
  prompt_text text NOT NULL CHECK (char_length(prompt_text) BETWEEN 1 AND 20000),
  template_id text,
  options jsonb DEFAULT '{}'::jsonb,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz DEFAULT now() + interval '7 days'
);

CREATE INDEX idx_draft_session ON public.draft_prompts (session_token);
CREATE INDEX idx_draft_user ON public.draft_prompts (user_id);
CREATE INDEX idx_draft_expires ON public.draft_prompts (expires_at);

-- The PRD gave draft_prompts an updated_at but no trigger to keep it current.
CREATE TRIGGER tr_draft_prompts_updated
BEFORE UPDATE ON public.draft_prompts
FOR EACH ROW EXECUTE FUNCTION public.update_updated_at();

ALTER TABLE public.draft_prompts ENABLE ROW LEVEL SECURITY;
REVOKE ALL ON TABLE public.draft_prompts FROM PUBLIC, anon, authenticated, service_role;

-- Visitors (anon) may store a draft, unowned; they can never read, list or change drafts
-- (so they insert with Prefer: return=minimal). Signed-in users store drafts unowned or
-- owned by themselves, and read, edit and delete their own.
CREATE POLICY draft_prompts_insert ON public.draft_prompts
  FOR INSERT TO anon, authenticated
  WITH CHECK (user_id IS NULL OR user_id = (SELECT auth.uid()));

CREATE POLICY draft_prompts_select ON public.draft_prompts
  FOR SELECT TO authenticated
  USING (user_id = (SELECT auth.uid()));

CREATE POLICY draft_prompts_update ON public.draft_prompts
  FOR UPDATE TO authenticated
  USING (user_id = (SELECT auth.uid()))
  WITH CHECK (user_id = (SELECT auth.uid()));

CREATE POLICY draft_prompts_delete ON public.draft_prompts
  FOR DELETE TO authenticated
  USING (user_id = (SELECT auth.uid()));

-- Not expires_at: a visitor cannot make a draft live forever.
GRANT INSERT (session_token, prompt_text, template_id, options)
  ON TABLE public.draft_prompts TO anon;
GRANT INSERT (id, session_token, user_id, prompt_text, template_id, options)
  ON TABLE public.draft_prompts TO authenticated;
GRANT SELECT, DELETE ON TABLE public.draft_prompts TO authenticated;
GRANT UPDATE (prompt_text, template_id, options) ON TABLE public.draft_prompts TO authenticated;
GRANT SELECT, INSERT, UPDATE, DELETE ON TABLE public.draft_prompts TO service_role;

-- Claim a visitor's unexpired, unclaimed drafts for a user; returns the newest claimed
-- draft's id, or NULL when there was none. A signed-in user can only claim for
-- themselves; the service role for anyone; anonymous callers not at all. SECURITY
-- DEFINER because the drafts are not the caller's yet (RLS would hide them).
CREATE FUNCTION public.claim_draft_prompt(p_session_token text, p_user_id uuid)
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

REVOKE ALL ON FUNCTION public.claim_draft_prompt(text, uuid) FROM PUBLIC, anon, authenticated, service_role;
GRANT EXECUTE ON FUNCTION public.claim_draft_prompt(text, uuid) TO authenticated, service_role;
