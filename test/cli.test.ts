// The ai-cache CLI as an operator runs it: a real subprocess (the package's bin), against the
// local stack, once over a direct database connection and once over the REST API with the
// service-role key. Each mode works on companies of its own, so figures are exact even though
// other suites write to the same database at the same time.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  type CliMode,
  countEntries,
  dropCompanies,
  holdAdminSuiteLock,
  insertEntry,
  insertEvent,
  json,
  lookup,
  runCli,
  runCliInTerminal,
} from './helpers/admin.ts';
import { adminSql, ANON_KEY, closeAdminSql, DB_URL } from './helpers/stack.ts';

// Each test starts several CLI processes (Node + tsx): seconds apiece on a loaded machine.
vi.setConfig({ testTimeout: 120_000 });

const DAY = 86400;
const companies: string[] = [];
let releaseLock: () => Promise<void> = async () => {};

// Expired fixtures: do not overlap with the cron suite's global cleanup (see holdAdminSuiteLock).
beforeAll(async () => {
  releaseLock = await holdAdminSuiteLock('shared');
}, 180_000);

afterAll(async () => {
  await dropCompanies(companies);
  await closeAdminSql();
  await releaseLock();
});

interface Stats {
  scope: string;
  company_id: string | null;
  entries: number;
  expired_entries: number;
  hits: number;
  misses: number;
  total_uses: number;
  hit_rate: number;
  reuse_rate: number;
  tokens_saved: number;
  cost_saved_usd: number;
  upstream_calls: number;
  upstream_errors: number;
  by_type: Array<Record<string, unknown> & { cache_type: string }>;
  by_company?: { scopes: number; companies: Array<Record<string, unknown> & { company_id: string | null }> };
}

interface DeleteReport {
  command: string;
  filter: Record<string, unknown>;
  matched: number;
  deleted: number;
  batches: number;
  dry_run: boolean;
}

describe.each<CliMode>(['db', 'api'])('ai-cache over %s', (mode) => {
  const company = randomUUID();
  const other = randomUUID();
  const cli = (...args: string[]) => runCli(args, { mode });

  beforeAll(async () => {
    companies.push(company, other);
    // 8 entries. Stored costs differ per entry: savings must come from them, not a constant.
    await insertEntry({
      companyId: company,
      cacheType: 'chat',
      ageSeconds: 40 * DAY,
      promptTokens: 60,
      completionTokens: 40,
      costUsd: 0.002,
      hitCount: 2,
      request: {
        messages: [{ role: 'system', content: 'You are' }, { role: 'user', content: 'first question' }, {
          role: 'assistant',
          content: 'an answer',
        }, { role: 'user', content: 'What is VAT?' }],
      },
    });
    await insertEntry({
      companyId: company,
      cacheType: 'chat',
      ageSeconds: 2 * DAY,
      expiresInSeconds: -3600,
      promptTokens: 30,
      completionTokens: 20,
      costUsd: 0.001,
    });
    const e3 = await insertEntry({
      companyId: company,
      cacheType: 'suggestions',
      model: 'old-model',
      ageSeconds: DAY,
      promptTokens: 10,
      completionTokens: 10,
      costUsd: 0.0005,
      request: { description_projet: 'site pour mon restaurant' },
    });
    await insertEntry({
      companyId: company,
      cacheType: 'suggestions',
      keyVersion: 2,
      ageSeconds: 31 * DAY,
      expiresInSeconds: -60,
    });
    await insertEntry({ companyId: company, cacheType: 'chat', model: 'gpt-4o', keyVersion: 2 });
    await insertEntry({ companyId: company, cacheType: 'chat', model: 'gpt-4o', keyVersion: 2 });
    await insertEntry({ companyId: company, cacheType: 'chat' });
    await insertEntry({ companyId: company, cacheType: 'chat' });
    // Another company with an entry of the same old model: purges scoped to `company` leave it.
    await insertEntry({
      companyId: other,
      cacheType: 'chat',
      model: 'old-model',
      ageSeconds: 40 * DAY,
      expiresInSeconds: -60,
    });

    // Traffic: 2 hits of the first entry already folded into the daily counters; 3 hits of
    // e3 and 4 misses through the real lookup RPC (unfolded events); 1 upstream call, 1 error.
    await adminSql()`insert into public.ai_cache_stats_daily (day, company_id, cache_type, hits, tokens_saved, cost_saved_usd)
                     values ((now() at time zone 'UTC')::date, ${company}, 'chat', 2, 200, 0.004)`;
    await lookup(company, e3.cacheKey, 'suggestions', 3);
    await lookup(company, 'f'.repeat(64), 'chat', 2);
    await lookup(company, 'e'.repeat(64), 'suggestions', 2);
    await insertEvent({
      companyId: company,
      cacheType: 'suggestions',
      kind: 'upstream_call',
      tokens: 20,
      costUsd: 0.0005,
    });
    await insertEvent({ companyId: company, cacheType: 'suggestions', kind: 'upstream_error' });
  });

  it('stats --company --json: the figures of known data', async () => {
    const r = await cli('stats', '--company', company, '--json');
    expect(r.code, r.stderr).toBe(0);
    const s = json<Stats>(r);
    expect(s).toMatchObject({
      scope: 'company',
      company_id: company,
      entries: 8,
      expired_entries: 2,
      hits: 5,
      misses: 4,
      total_uses: 13,
      hit_rate: 0.5556,
      reuse_rate: 0.625,
      tokens_saved: 260,
      upstream_calls: 1,
      upstream_errors: 1,
    });
    // 2 folded hits x $0.002 + 3 hits x $0.0005: the stored per-entry costs.
    expect(s.cost_saved_usd).toBeCloseTo(0.0055, 6);
    const chat = s.by_type.find((t) => t.cache_type === 'chat');
    const suggestions = s.by_type.find((t) => t.cache_type === 'suggestions');
    expect(chat).toMatchObject({
      entries: 6,
      expired_entries: 1,
      hits: 2,
      misses: 2,
      total_uses: 8,
      hit_rate: 0.5,
      tokens_saved: 200,
    });
    expect(suggestions).toMatchObject({
      entries: 2,
      expired_entries: 1,
      hits: 3,
      misses: 2,
      total_uses: 5,
      hit_rate: 0.6,
      reuse_rate: 1.5,
      tokens_saved: 60,
    });
    expect(Number(suggestions!.cost_saved_usd)).toBeCloseTo(0.0015, 6);
    expect(s.by_company).toBeUndefined();
  });

  it('stats: the human report', async () => {
    const r = await cli('stats', '--company', company);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`AI CACHE STATISTICS: company ${company}`);
    expect(r.stdout).toMatch(/Entries in cache\s+: 8 \(2 expired, awaiting cleanup\)/);
    expect(r.stdout).toMatch(/Total uses\s+: 13\n/);
    expect(r.stdout).toMatch(/Hits \/ misses\s+: 5 \/ 4\n/);
    expect(r.stdout).toMatch(/Hit rate\s+: 55\.6%/);
    expect(r.stdout).toMatch(/Reuse rate\s+: 62\.5%/);
    expect(r.stdout).toMatch(/Tokens saved\s+: 260\n/);
    expect(r.stdout).toMatch(/Money saved\s+: \$0\.0055\n/);
    expect(r.stdout).toMatch(/\nsuggestions\s+2\s+1\s+5\s+3\s+2\s+60\.0%\s+150\.0%\s+60\s+\$0\.0015\s+1\n/);
  });

  it('stats without --company covers every scope and lists companies', async () => {
    const r = await cli('stats', '--json', '--companies', '10000');
    expect(r.code, r.stderr).toBe(0);
    const s = json<Stats>(r);
    expect(s.scope).toBe('all');
    expect(s.entries).toBeGreaterThanOrEqual(9);
    expect(s.hits).toBeGreaterThanOrEqual(5);
    const mine = s.by_company!.companies.find((c) => c.company_id === company);
    expect(mine).toMatchObject({ entries: 8, hits: 5, misses: 4, hit_rate: 0.5556, tokens_saved: 260 });
    expect(s.by_company!.scopes).toBeGreaterThanOrEqual(2);
  });

  it('top -n 2: the most used entries with their stored prompt, type, uses and age', async () => {
    const r = await cli('top', '-n', '2', '--company', company, '--json');
    expect(r.code, r.stderr).toBe(0);
    const { entries } = json<{ entries: Array<Record<string, unknown>> }>(r);
    expect(entries).toHaveLength(2);
    // e3: 3 hits not folded yet count; first entry: 2 folded hits.
    expect(entries[0]).toMatchObject({
      rank: 1,
      cache_type: 'suggestions',
      model: 'old-model',
      uses: 4,
      hits: 3,
      prompt: 'site pour mon restaurant',
      expired: false,
    });
    expect(entries[0].age_seconds as number).toBeGreaterThanOrEqual(DAY);
    expect(entries[0].saved_usd as number).toBeCloseTo(0.0015, 6);
    expect(entries[1]).toMatchObject({ rank: 2, cache_type: 'chat', uses: 3, hits: 2, prompt: 'What is VAT?' });
    expect(entries[1].age_seconds as number).toBeGreaterThanOrEqual(40 * DAY);

    const human = await cli('top', '-n', '2', '--company', company);
    expect(human.code, human.stderr).toBe(0);
    const lines = human.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^Top 2 cache entries/);
    expect(lines[3]).toMatch(/^1\s+4\s+suggestions\s+old-model\s+1d\s+\S+\s+\$0\.0015\s+site pour mon restaurant$/);
    expect(lines[4]).toMatch(/^2\s+3\s+chat\s+gpt-4o-mini\s+40d\s+\S+\s+\$0\.004\s+What is VAT\?$/);
  });

  it('clean --older-than 30d deletes the old entries in batches and reports the count', async () => {
    const dry = await cli('clean', '--older-than', '30d', '--company', company, '--json', '--dry-run');
    expect(dry.code, dry.stderr).toBe(0);
    expect(json<DeleteReport>(dry)).toMatchObject({ command: 'clean', matched: 2, deleted: 0, dry_run: true });
    expect(await countEntries(company)).toBe(8);

    const r = await cli('clean', '--older-than', '30d', '--company', company, '--batch-size', '1', '--json');
    expect(r.code, r.stderr).toBe(0);
    expect(json<DeleteReport>(r)).toMatchObject({
      command: 'clean',
      filter: { company_id: company, older_than_seconds: 30 * DAY },
      matched: 2,
      deleted: 2,
      batches: 3,
      dry_run: false,
    });
    expect(r.stderr).toContain('clean: 2 entries to delete'); // stderr is not a terminal: plain lines, no bar
    expect(await countEntries(company)).toBe(6);
    expect(await countEntries(other)).toBe(1);
  });

  it('clean --expired deletes the expired entries (human output)', async () => {
    const r = await cli('clean', '--expired', '--company', company);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(
      new RegExp(`^clean: deleted 1 entry \\(company ${company}, expired\\) in [0-9.]+ s, 2 batches\\n$`),
    );
    expect(await countEntries(company)).toBe(5);
    const again = await cli('clean', '--expired', '--company', company);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('clean: nothing to delete');
  });

  it('purge --model drops what an old model produced, in this company only', async () => {
    const r = await cli('purge', '--model', 'old-model', '--company', company, '--json');
    expect(r.code, r.stderr).toBe(0);
    expect(json<DeleteReport>(r)).toMatchObject({
      command: 'purge',
      filter: { model: 'old-model' },
      matched: 1,
      deleted: 1,
    });
    expect(await countEntries(company)).toBe(4);
    expect(await countEntries(other)).toBe(1);
  });

  it('purge --key-version drops the entries of an old key scheme', async () => {
    const r = await cli('purge', '--key-version', '2', '--company', company, '--json');
    expect(r.code, r.stderr).toBe(0);
    expect(json<DeleteReport>(r)).toMatchObject({
      command: 'purge',
      filter: { key_version: 2 },
      matched: 2,
      deleted: 2,
    });
    expect(await countEntries(company)).toBe(2);
  });

  it('clear refuses without --yes when stdin is not a terminal, and deletes with it', async () => {
    const refused = await cli('clear', '--company', company);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('confirmation required but stdin is not a terminal: nothing was deleted');
    expect(refused.stderr).toContain('--yes');
    expect(await countEntries(company)).toBe(2);

    const refusedJson = await cli('clear', '--company', company, '--json');
    expect(refusedJson.code).toBe(2);
    expect(json<{ error: { code: string; exit_code: number } }>(refusedJson).error).toMatchObject({
      code: 'confirmation_required',
      exit_code: 2,
    });

    const r = await cli('clear', '--company', company, '--type', 'chat', '--yes', '--json');
    expect(r.code, r.stderr).toBe(0);
    expect(json<DeleteReport>(r)).toMatchObject({
      command: 'clear',
      filter: { company_id: company, cache_type: 'chat' },
      matched: 2,
      deleted: 2,
    });
    expect(await countEntries(company)).toBe(0);
    expect(await countEntries(other)).toBe(1);
  });
});

describe('ai-cache clear at a terminal', () => {
  it('asks; "n" aborts with exit 3 and deletes nothing, "y" deletes with a progress bar', async () => {
    const company = randomUUID();
    companies.push(company);
    for (let i = 0; i < 3; i++) await insertEntry({ companyId: company });

    const no = await runCliInTerminal(['clear', '--company', company], 'n\n', { mode: 'db' });
    expect(no.code, no.stdout).toBe(3);
    expect(no.stdout).toContain(`Delete 3 entries (company ${company})? This cannot be undone. [y/N]`);
    expect(no.stdout).toContain('aborted: nothing was deleted');
    expect(await countEntries(company)).toBe(3);

    const yes = await runCliInTerminal(['clear', '--company', company, '--batch-size', '2'], 'y\n', { mode: 'db' });
    expect(yes.code, yes.stdout).toBe(0);
    expect(yes.stdout).toMatch(/clear \[█+\] 3\/3 100%/); // the bar, redrawn on stderr (a terminal)
    expect(yes.stdout).toContain(`clear: deleted 3 entries (company ${company})`);
    expect(await countEntries(company)).toBe(0);
  });
});

describe('ai-cache errors and exit codes', () => {
  it('a wrong database password: a clear message, exit 1', async () => {
    const bad = DB_URL.replace(/:\/\/([^:]+):[^@]+@/, '://$1:wrong-password@');
    const r = await runCli(['stats'], { mode: 'db', env: { SUPABASE_DB_URL: bad } });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('the database refused the credentials');
    expect(r.stderr).not.toContain('wrong-password');
  });

  it('a database URL nobody listens on: exit 1', async () => {
    const r = await runCli(['stats', '--json'], {
      mode: 'db',
      env: { SUPABASE_DB_URL: 'postgresql://postgres:postgres@127.0.0.1:54399/postgres' },
    });
    expect(r.code).toBe(1);
    expect(json<{ error: { code: string } }>(r).error.code).toBe('connection_failed');
    expect(r.stderr).toMatch(/cannot connect to the database at .*127\.0\.0\.1:54399.*ECONNREFUSED/);
  });

  it('a wrong service-role key: exit 1, the key is named', async () => {
    const r = await runCli(['stats'], { mode: 'api', env: { SUPABASE_SERVICE_ROLE_KEY: 'not-a-valid-key' } });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/rejected the key/);
    expect(r.stderr).toContain('SUPABASE_SERVICE_ROLE_KEY');
  });

  it('the anon key instead of the service-role key: exit 1', async () => {
    const r = await runCli(['top', '--json'], { mode: 'api', env: { SUPABASE_SERVICE_ROLE_KEY: ANON_KEY } });
    expect(r.code).toBe(1);
    expect(json<{ error: { code: string } }>(r).error.code).toBe('permission_denied');
  });

  it('an API URL nobody listens on: exit 1', async () => {
    const r = await runCli(['stats'], { mode: 'api', env: { SUPABASE_URL: 'http://127.0.0.1:54399' } });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('cannot reach the API at http://127.0.0.1:54399');
  });

  it('no connection configured, bad options, missing filters: usage errors, exit 2', async () => {
    const none = await runCli(['stats'], { mode: 'db', env: { SUPABASE_DB_URL: undefined } });
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('no connection configured');
    const keyless = await runCli(['stats'], { mode: 'api', env: { SUPABASE_SERVICE_ROLE_KEY: undefined } });
    expect(keyless.code).toBe(2);
    const unknown = await runCli(['frobnicate'], { mode: 'db' });
    expect(unknown.code).toBe(2);
    const badAge = await runCli(['clean', '--older-than', 'soon'], { mode: 'db' });
    expect(badAge.code).toBe(2);
    expect(badAge.stderr).toContain('is not an age');
    const noFilter = await runCli(['clean', '--json'], { mode: 'db' });
    expect(noFilter.code).toBe(2);
    expect(json<{ error: { code: string } }>(noFilter).error.code).toBe('usage');
    const noPurgeFilter = await runCli(['purge'], { mode: 'db' });
    expect(noPurgeFilter.code).toBe(2);
    const badCompany = await runCli(['clear', '--company', 'acme', '--yes'], { mode: 'db' });
    expect(badCompany.code).toBe(2);
    const both = await runCli(['top', '--company', randomUUID(), '--global'], { mode: 'db' });
    expect(both.code).toBe(2);
  }, 180_000); // eight CLI processes in a row: minutes on a loaded 2-core machine

  it('--help and --version succeed', async () => {
    const help = await runCli(['--help'], { mode: 'db' });
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('Exit codes:');
    const version = await runCli(['--version'], { mode: 'db' });
    expect(version.code).toBe(0);
    expect(version.stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
  });
});
