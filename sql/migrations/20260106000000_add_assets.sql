-- assets: files a job produced (PRD section 4).

CREATE TABLE public.assets (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  job_id uuid NOT NULL REFERENCES public.jobs (id) ON DELETE CASCADE,
  type text NOT NULL CHECK (type IN (
    'video', 'audio', 'image', 'captions', 'manifest', 'zip'
  )),
  url text NOT NULL,
  storage_path text NOT NULL,
  size_bytes bigint CHECK (size_bytes >= 0),
  mime_type text,
  metadata_json jsonb DEFAULT '{}'::jsonb,
  created_at timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX idx_assets_job ON public.assets (job_id);
CREATE INDEX idx_assets_type ON public.assets (type);

ALTER TABLE public.assets ENABLE ROW LEVEL SECURITY;
REVOKE ALL ON TABLE public.assets FROM PUBLIC, anon, authenticated, service_role;
