-- Development seed data: two users (each gets a profile and the welcome credits from the
-- new-user trigger), a project each, a finished job with its steps and asset, and a
-- visitor's unclaimed draft. Safe to load more than once. Never load it into production.

INSERT INTO auth.users (id, email, raw_user_meta_data)
VALUES
  ('00000000-0000-4000-8000-00000000a11c', 'alice@example.com', '{"name": "Alice"}'),
  ('00000000-0000-4000-8000-000000000b0b', 'bob@example.com', '{"name": "Bob"}')
ON CONFLICT (id) DO NOTHING;

INSERT INTO public.projects (id, user_id, title, prompt_text, niche_preset, target_minutes)
VALUES
  ('00000000-0000-4000-8000-0000000000a1', '00000000-0000-4000-8000-00000000a11c',
   'Why the Romans built roads', 'Explain how Roman roads shaped the empire.', 'history', 2),
  ('00000000-0000-4000-8000-0000000000b1', '00000000-0000-4000-8000-000000000b0b',
   'Compound interest in 60 seconds', 'Show why starting to save early matters.', 'finance', 1)
ON CONFLICT (id) DO NOTHING;

INSERT INTO public.jobs (id, project_id, user_id, status, progress, cost_credits_reserved,
                         cost_credits_final, output_url, started_at, finished_at)
VALUES
  ('00000000-0000-4000-8000-00000000c0a1', '00000000-0000-4000-8000-0000000000a1',
   '00000000-0000-4000-8000-00000000a11c', 'READY', 100, 10, 10,
   'https://example.com/videos/roman-roads.mp4', now() - interval '1 hour', now())
ON CONFLICT (id) DO NOTHING;

INSERT INTO public.job_steps (job_id, step_name, step_order, state, progress_pct, started_at, finished_at)
SELECT '00000000-0000-4000-8000-00000000c0a1', s.name, s.ord, 'succeeded', 100,
       now() - interval '1 hour', now()
FROM (VALUES ('SCRIPTING', 1), ('VOICE_GEN', 2), ('ALIGNMENT', 3), ('VISUAL_PLAN', 4),
             ('IMAGE_GEN', 5), ('TIMELINE', 6), ('RENDERING', 7), ('PACKAGING', 8)) AS s(name, ord)
ON CONFLICT (job_id, step_name) DO NOTHING;

INSERT INTO public.assets (id, job_id, type, url, storage_path, size_bytes, mime_type)
VALUES
  ('00000000-0000-4000-8000-00000000e0a1', '00000000-0000-4000-8000-00000000c0a1', 'video',
   'https://example.com/videos/roman-roads.mp4', 'videos/roman-roads.mp4', 10485760, 'video/mp4')
ON CONFLICT (id) DO NOTHING;

INSERT INTO public.draft_prompts (id, session_token, prompt_text)
VALUES
  ('00000000-0000-4000-8000-00000000d0a1', 'seed-visitor-session-token-0001',
   'A 60-second history of the printing press')
ON CONFLICT (id) DO NOTHING;
