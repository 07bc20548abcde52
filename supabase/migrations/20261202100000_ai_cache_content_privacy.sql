/*
 * Conversation privacy: company owners/admins read cache METADATA, never content.
 *
 * ai_cache rows hold a member's prompt (request) and the model's answer (cached_result).
 * An owner/admin of the company may read the row's metadata (type, model, tokens, cost,
 * hits, times) for monitoring, but never the text a member asked or was answered.
 *
 * Decision: column-level privileges, not a split table.
 * - The content columns stay on the row, so the hot path (cache_lookup, cache_peek,
 *   cache_store, all service-role, SECURITY INVOKER) keeps one unique-index probe per hit
 *   and no join, and every RPC that reads an entry keeps its shape.
 * - authenticated is granted SELECT on the metadata columns only. Reading request,
 *   cached_result or cache_key as a user fails with 42501 (`select *` too: an admin lists
 *   the columns it may read, e.g. `.select('id, cache_type, model, total_tokens, cost_usd')`).
 * - cache_key is withheld as well: it is sha256 of the canonical request, so it would let an
 *   admin confirm a guessed prompt offline.
 * - Only the service role (Edge Functions, operators, the CLI) reads content; it bypasses RLS
 *   and keeps its table-wide privileges.
 * Every other path an authenticated caller has was audited for content: get_cache_stats,
 * get_conversation_stats and ai_cache_stats_daily return numbers only; the admin RPCs
 * (get_top_cache_entries with its prompt, get_cache_stats_by_company, get_cache_metrics) are
 * service role only; ai_messages / ai_conversations are readable by their own user only
 * (an admin has no path to a member's messages). supabase/tests/database/015-content-privacy.sql
 * proves it column by column.
 */

-- ---------------------------------------------------------------------------------------
-- Grants
-- ---------------------------------------------------------------------------------------
revoke select on table public.ai_cache from authenticated;
grant select (
  id, company_id, cache_type, model, key_version,
  prompt_tokens, completion_tokens, total_tokens, cost_usd,
  hit_count, last_hit_at, created_at, expires_at
) on table public.ai_cache to authenticated;

comment on column public.ai_cache.request is
  'What the answer was for, for operators: for chat only the new question (never the history). Service role only; null when AI_CACHE_STORE_PROMPTS=false.';
comment on column public.ai_cache.cached_result is 'The answer. Service role only: owners/admins read metadata, never content.';
comment on column public.ai_cache.cache_key is
  'sha256 hex of the versioned canonical request. Service role only (a hash of content lets a guess be confirmed).';
