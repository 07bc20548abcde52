#!/usr/bin/env bash
# Prints a fingerprint of a stack's data: row count and content hash of every table in the
# public, auth and private schemas. Run it against your `npm start` stack before and after
# `npm test` (which runs on a stack of its own) and compare: the outputs are identical.
#   scripts/snapshot-db.sh [db url]   # default: SUPABASE_DB_URL, else the local stack's
# Tables that the stack's own pg_cron jobs rewrite every minute (event rollup, rate-limit
# buckets) are fingerprinted by what those jobs preserve (sums), not row by row; the rollup also
# moves hits into ai_cache.hit_count, so take the "before" snapshot a minute after your last request.
set -euo pipefail
url="${1:-${SUPABASE_DB_URL:-postgresql://postgres:postgres@127.0.0.1:${SUPABASE_DB_PORT:-54322}/postgres}}"
psql "$url" -X -q -A -t -v ON_ERROR_STOP=1 <<'SQL'
do $$
declare t record; n bigint; h text;
begin
  for t in select table_schema s, table_name r from information_schema.tables
           where table_schema in ('public', 'auth', 'private') and table_type = 'BASE TABLE'
             and (table_schema, table_name) not in (('private', 'ai_cache_events'), ('public', 'ai_cache_stats_daily'), ('private', 'rate_limit_buckets'))
           order by 1, 2 loop
    execute format('select count(*), coalesce(md5(string_agg(x::text, ''|'' order by x::text)), ''-'') from %I.%I x', t.s, t.r) into n, h;
    raise notice '%.% rows=% md5=%', t.s, t.r, n, h;
  end loop;
end $$;
SQL
psql "$url" -X -q -A -t -v ON_ERROR_STOP=1 <<'SQL'
select format('stats (events + daily rollup): hits=%s misses=%s upstream_calls=%s upstream_tokens=%s',
  (select count(*) from private.ai_cache_events where kind = 'hit') + (select coalesce(sum(hits), 0) from public.ai_cache_stats_daily),
  (select count(*) from private.ai_cache_events where kind = 'miss') + (select coalesce(sum(misses), 0) from public.ai_cache_stats_daily),
  (select count(*) from private.ai_cache_events where kind = 'upstream_call') + (select coalesce(sum(upstream_calls), 0) from public.ai_cache_stats_daily),
  (select coalesce(sum(tokens), 0) from private.ai_cache_events where kind = 'upstream_call') + (select coalesce(sum(upstream_tokens), 0) from public.ai_cache_stats_daily));
SQL
