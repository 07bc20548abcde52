// Regenerates docs/dashboard.png: a demo company on the running local stack, an admin signed in
// through the page, in Debian's Chromium. `npm run dashboard:screenshot` (the stack must be up).
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { ROOT, stackEnv } from '../../src/stack/config.ts';
import { launchBrowser } from '../../test/helpers/browser.ts';
import { addDashboardUser, PASSWORD, seedCompany, seedConversations } from '../../test/helpers/dashboard-fixture.ts';
import { closeAdminSql } from '../../test/helpers/stack.ts';

const company = randomUUID();
const admin = await addDashboardUser('demo-admin', [[company, 'admin']]);
// A month of plausible traffic: hit rate climbing as the cache warms up.
const days = Array.from({ length: 30 }, (_, i) => {
  const ago = 29 - i;
  const lookups = 40 + ((i * 37) % 25);
  const hits = Math.round(lookups * Math.min(0.85, 0.2 + i * 0.025));
  return {
    ago,
    type: i % 3 === 0 ? 'suggestions' : 'chat',
    hits,
    misses: lookups - hits,
    tokens: hits * 180,
    saved: hits * 0.00041,
    calls: lookups - hits,
    spend: (lookups - hits) * 0.00041,
  };
});
await seedCompany(company, {
  entries: [
    { type: 'chat', model: 'gpt-4o-mini', hits: 57, tokens: [220, 140], cost: 0.00042, ageDays: 6 },
    { type: 'chat', model: 'gpt-4o-mini', hits: 31, tokens: [180, 90], cost: 0.00031, ageDays: 2 },
    { type: 'suggestions', model: 'gpt-4o-mini', hits: 24, tokens: [90, 60], cost: 0.00018, ageDays: 1 },
    { type: 'chat', model: 'gpt-4o', hits: 12, tokens: [400, 260], cost: 0.0036, ageDays: 4 },
    { type: 'suggestions', model: 'gpt-4o', hits: 0, tokens: [80, 40], cost: 0.0009, expired: true, ageDays: 9 },
  ],
  days,
});
await seedConversations(company, admin, [
  { context: 'accounting', answers: 6, cached: 4 },
  { context: 'banking', answers: 3, cached: 1 },
  { context: 'general', answers: 5, cached: 2 },
]);

const browser = await launchBrowser();
try {
  const page = await browser.context.newPage();
  await page.goto(stackEnv().AI_DASHBOARD_URL!, { timeout: 180_000 });
  await page.getByLabel('Email').fill(admin);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.locator('.recharts-surface').first().waitFor({ timeout: 30_000 });
  const out = path.join(ROOT, 'docs/dashboard.png');
  await page.screenshot({ path: out, fullPage: true });
  console.log(`wrote ${out}`);
} finally {
  await browser.close();
  await closeAdminSql();
}
