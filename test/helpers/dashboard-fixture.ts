// Companies with cache entries, daily counters and conversations, for the dashboard's tests
// and its README screenshot; users created the way `npm run stack -- user add` does.
import { randomUUID } from 'node:crypto';
import { addUser } from '../../src/auth/provision.ts';
import { adminSql, DB_URL } from './stack.ts';

export const PASSWORD = 'dashboard-pass-1';

export async function addDashboardUser(label: string, memberships: Array<[string, 'owner' | 'admin' | 'member']>) {
  const email = `${label}-${randomUUID().slice(0, 8)}@example.test`;
  const [first, ...rest] = memberships;
  await addUser(DB_URL, { email, password: PASSWORD, company: first?.[0], role: first?.[1] ?? 'member' });
  for (const [company, role] of rest) await addUser(DB_URL, { email, company, role });
  return email;
}

interface EntrySpec {
  type: string;
  model: string;
  hits: number;
  tokens: [number, number];
  cost: number;
  expired?: boolean;
  ageDays?: number;
}

export async function seedCompany(
  companyId: string,
  spec: {
    entries: EntrySpec[];
    days: Array<
      {
        ago: number;
        type: string;
        hits: number;
        misses: number;
        tokens: number;
        saved: number;
        calls: number;
        spend: number;
      }
    >;
  },
) {
  const sql = adminSql();
  for (const e of spec.entries) {
    await sql`
      insert into public.ai_cache (company_id, cache_key, cache_type, model, cached_result, prompt_tokens, completion_tokens,
                                   cost_usd, hit_count, created_at, expires_at)
      values (${companyId}, encode(extensions.digest(${randomUUID()}, 'sha256'), 'hex'), ${e.type}, ${e.model},
              '{"answer":"not for admins"}', ${e.tokens[0]}, ${e.tokens[1]}, ${e.cost}, ${e.hits},
              now() - make_interval(days => ${e.ageDays ?? 1}),
              now() + (case when ${e.expired ?? false}::boolean then interval '-1 hour' else interval '1 day' end))`;
  }
  for (const d of spec.days) {
    await sql`
      insert into public.ai_cache_stats_daily (day, company_id, cache_type, hits, misses, tokens_saved, cost_saved_usd,
                                               upstream_calls, upstream_tokens, upstream_cost_usd)
      values ((now() at time zone 'UTC')::date - ${d.ago}::int, ${companyId}, ${d.type}, ${d.hits}, ${d.misses}, ${d.tokens}, ${d.saved},
              ${d.calls}, ${d.tokens}, ${d.spend})`;
  }
}

export async function seedConversations(
  companyId: string,
  userEmail: string,
  contexts: Array<{ context: string; answers: number; cached: number }>,
) {
  const sql = adminSql();
  const [user] = await sql<{ id: string }[]>`select id from auth.users where email = ${userEmail}`;
  for (const c of contexts) {
    const [conv] = await sql<{ id: string }[]>`
      insert into public.ai_conversations (company_id, user_id, title, context_type)
      values (${companyId}, ${user!.id}, 'private title', ${c.context}) returning id`;
    for (let i = 0; i < c.answers; i++) {
      await sql`insert into public.ai_messages (conversation_id, role, content) values (${
        conv!.id
      }, 'user', 'private question')`;
      await sql`insert into public.ai_messages (conversation_id, role, content, from_cache, tokens_used)
                values (${conv!.id}, 'assistant', 'private answer', ${i < c.cached}, ${i < c.cached ? 0 : 40})`;
    }
  }
}
