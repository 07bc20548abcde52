// The dashboard in a real browser (Debian's Chromium via playwright-core), served by the local
// stack at AI_DASHBOARD_URL: an admin signs in, reads figures equal to get_cache_stats, changes
// company, purges and sees the figures change; a plain member sees no numbers.
import { randomUUID } from 'node:crypto';
import { createClient } from '@supabase/supabase-js';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stackEnv } from '../../src/stack/config.ts';
import { type Browser, launchBrowser } from '../helpers/browser.ts';
import { addDashboardUser, PASSWORD, seedCompany, seedConversations } from '../helpers/dashboard-fixture.ts';
import { adminSql, ANON_KEY, closeAdminSql, SUPABASE_URL } from '../helpers/stack.ts';

const DASHBOARD_URL = process.env.AI_DASHBOARD_URL ?? stackEnv().AI_DASHBOARD_URL!;
const companyA = randomUUID();
const companyB = randomUUID();
let admin: string;
let member: string;
let browser: Browser;

beforeAll(async () => {
  admin = await addDashboardUser('dash-admin', [[companyA, 'admin'], [companyB, 'owner']]);
  member = await addDashboardUser('dash-member', [[companyA, 'member']]);
  await seedCompany(companyA, {
    entries: [
      { type: 'chat', model: 'gpt-4o-mini', hits: 7, tokens: [120, 80], cost: 0.00042 },
      { type: 'chat', model: 'gpt-4o', hits: 2, tokens: [300, 200], cost: 0.0035 },
      { type: 'suggestions', model: 'gpt-4o', hits: 0, tokens: [50, 50], cost: 0.0011, expired: true },
    ],
    days: [
      { ago: 0, type: 'chat', hits: 9, misses: 4, tokens: 2400, saved: 0.01294, calls: 4, spend: 0.0092 },
      { ago: 3, type: 'suggestions', hits: 2, misses: 1, tokens: 200, saved: 0.0022, calls: 1, spend: 0.0011 },
    ],
  });
  await seedCompany(companyB, {
    entries: [{ type: 'chat', model: 'gpt-4o-mini', hits: 1, tokens: [10, 10], cost: 0.00001 }],
    days: [{ ago: 1, type: 'chat', hits: 1, misses: 5, tokens: 20, saved: 0.00001, calls: 5, spend: 0.00005 }],
  });
  await seedConversations(companyA, admin, [{ context: 'accounting', answers: 4, cached: 3 }]);
  // The stack builds the page when it starts (once per source change); this waits for it.
  const page = await fetch(DASHBOARD_URL);
  expect(page.status).toBe(200);
  browser = await launchBrowser();
}, 240_000);

afterAll(async () => {
  await browser?.close();
  await closeAdminSql();
});

/** get_cache_stats as the same admin, through supabase-js: what the page must show. */
async function statsAs(email: string, companyId: string) {
  const supabase = createClient(SUPABASE_URL, ANON_KEY, { auth: { persistSession: false, autoRefreshToken: false } });
  const { error } = await supabase.auth.signInWithPassword({ email, password: PASSWORD });
  if (error) throw error;
  const { data, error: rpcError } = await supabase.rpc('get_cache_stats', { p_company_id: companyId });
  if (rpcError) throw rpcError;
  return data as {
    entries: number;
    hit_rate: number;
    tokens_saved: number;
    cost_saved_usd: number;
    hits: number;
    misses: number;
  };
}

const card = (page: Page, label: string) =>
  page.getByRole('group', { name: label, exact: true }).locator('.card-value');
const number = (text: string | null) => Number((text ?? '').replace(/[^0-9.-]/g, ''));

async function shownFigures(page: Page) {
  return {
    hitRate: number(await card(page, 'Hit rate').textContent()) / 100,
    entries: number(await card(page, 'Entries').textContent()),
    tokensSaved: number(await card(page, 'Tokens saved').textContent()),
    moneySaved: number(await card(page, 'Money saved').textContent()),
    requests: number(await card(page, 'Requests').textContent()),
  };
}

async function expectFiguresOf(page: Page, companyId: string) {
  const stats = await statsAs(admin, companyId);
  await expect.poll(async () => (await shownFigures(page)).entries, { timeout: 20_000 }).toBe(stats.entries);
  const shown = await shownFigures(page);
  expect(shown.hitRate).toBeCloseTo(Number(stats.hit_rate), 6);
  expect(shown.tokensSaved).toBe(Number(stats.tokens_saved));
  expect(shown.moneySaved).toBeCloseTo(Number(stats.cost_saved_usd), 9);
  expect(shown.requests).toBe(stats.hits + stats.misses);
  return stats;
}

async function signIn(page: Page, email: string) {
  await page.goto(`${DASHBOARD_URL}?refresh=2`);
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

describe('the dashboard in Chromium', () => {
  it('AI_DASHBOARD_URL alone is enough: the page and its project config (URL and anon key, never the service key)', async () => {
    const config = await (await fetch(new URL('config.js', DASHBOARD_URL))).text();
    expect(config).toContain(JSON.stringify(SUPABASE_URL));
    expect(config).toContain(ANON_KEY);
    expect(config).not.toContain(stackEnv().SUPABASE_SERVICE_ROLE_KEY!);
    const bare = await fetch(DASHBOARD_URL.replace(/\/$/, ''), { redirect: 'manual' });
    expect(bare.status).toBe(308);
    expect(bare.headers.get('location')).toBe('/dashboard/');
  });

  it('an admin signs in, reads the figures of get_cache_stats, changes company and purges', async () => {
    const page = await browser.context.newPage();
    await signIn(page, admin);

    const picker = page.getByLabel('Company');
    await picker.waitFor({ timeout: 20_000 });
    const options = await picker.locator('option').allTextContents();
    expect(options.some((o) => o.includes(companyA))).toBe(true);
    expect(options.some((o) => o.includes(companyB))).toBe(true);

    await picker.selectOption(companyA);
    const before = await expectFiguresOf(page, companyA);
    expect(before.entries).toBe(3);
    // Metadata of the most reused entries and conversation statistics, never their text.
    await expect.poll(() => page.getByRole('region', { name: 'Most reused entries' }).locator('tbody tr').count()).toBe(
      3,
    );
    await expect.poll(() => page.getByRole('region', { name: 'Conversations' }).textContent()).toContain('75%');
    expect(await page.content()).not.toContain('not for admins');
    expect(await page.content()).not.toContain('private answer');
    expect(await page.locator('.recharts-surface').count()).toBeGreaterThan(0);

    await picker.selectOption(companyB);
    await expectFiguresOf(page, companyB);

    await picker.selectOption(companyA);
    await expectFiguresOf(page, companyA);
    await page.getByLabel('Purge entries of').selectOption('gpt-4o');
    page.once('dialog', (d) => void d.accept());
    await page.getByRole('button', { name: 'Purge' }).click();
    await expect.poll(async () => (await shownFigures(page)).entries, { timeout: 20_000 }).toBe(1);
    const after = await expectFiguresOf(page, companyA);
    expect(after.entries).toBe(1);
    const [{ n }] = await adminSql()`select count(*)::int as n from public.ai_cache where company_id = ${companyB}`;
    expect(n).toBe(1); // the other company is untouched

    // The page refreshes on its own: an entry stored meanwhile shows up without a click.
    await seedCompany(companyA, {
      entries: [{ type: 'chat', model: 'gpt-4o-mini', hits: 0, tokens: [1, 1], cost: 0 }],
      days: [],
    });
    await expect.poll(async () => (await shownFigures(page)).entries, { timeout: 20_000 }).toBe(2);
    await page.close();
  }, 120_000);

  it('a member who is not an admin gets the admins-only page and no numbers', async () => {
    const page = await browser.context.newPage();
    await page.goto(DASHBOARD_URL);
    // The previous test's admin session is stored in this profile: start signed out.
    await page.evaluate(() => localStorage.clear());
    await signIn(page, member);
    await page.getByRole('heading', { name: 'Admins only' }).waitFor({ timeout: 20_000 });
    expect(await page.locator('.card').count()).toBe(0);
    const text = await page.locator('body').innerText();
    expect(text).not.toContain('Hit rate');
    expect(text).not.toContain(companyA);
    await page.close();
  }, 60_000);
});
