-- The functions that only read are declared STABLE, as get_credit_balance already is:
-- PostgREST then runs them in a read-only transaction, and a client with a read replica
-- (read_url) may send them there (vidgen_db's READ_ONLY_FUNCTIONS is checked against
-- this list by the tests). Their bodies, grants and security are unchanged.

ALTER FUNCTION public.get_dashboard(integer, timestamptz, uuid) STABLE;
ALTER FUNCTION public.job_queue_stats() STABLE;
