#!/usr/bin/env node
// Installs what a fresh machine lacks before `npm start` / `npm test` / `npm run stack`:
// npm packages exactly as package-lock.json says (`npm ci`), and the Debian packages of the local
// database (the PostgreSQL major scripts/postgres-major.mjs decides). Plain Node on purpose: it
// runs before node_modules exists. Every failure is one message and exit 1, never a stack trace.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { decidePostgres, PG_MAJOR_ENV } from './postgres-major.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const isRoot = process.getuid?.() === 0;

function log(msg) {
  console.error(`[deps] ${msg}`);
}

function fail(lines) {
  for (const l of lines) console.error(`[deps] ${l}`);
  process.exit(1);
}

function lastLines(text, n = 15) {
  return text.trim().split('\n').slice(-n).map((l) => `    ${l}`);
}

// ── npm packages ────────────────────────────────────────────────────────────────────────────
// `npm ci` never rewrites package-lock.json: a package.json it does not match is an error.
// A hash of the lockfile in node_modules says whether the installed tree is the committed one.
const lockfile = path.join(root, 'package-lock.json');
const marker = path.join(root, 'node_modules/.installed-lock.sha256');
const lockHash = createHash('sha256').update(readFileSync(lockfile)).digest('hex');
if (!existsSync(marker) || readFileSync(marker, 'utf8') !== lockHash) {
  log('installing npm packages with `npm ci` (exactly what package-lock.json lists)…');
  const r = spawnSync('npm', ['ci', '--no-audit', '--no-fund'], { cwd: root, stdio: ['ignore', 'inherit', 'inherit'] });
  if (r.status !== 0) {
    fail([
      `\`npm ci\` failed (exit ${r.status ?? r.signal}).`,
      'If npm says package.json and package-lock.json are not in sync, a dependency changed without',
      'its lockfile: run `npm run lock` (regenerates the complete, all-platforms lockfile) and commit it.',
    ]);
  }
  writeFileSync(marker, lockHash);
}

// ── Debian packages of the local database ───────────────────────────────────────────────────
let decision = decidePostgres({ useApt: false });
if (decision.major === null || decision.missing.length > 0) {
  let updateOutput = '';
  if (isRoot) {
    log('looking for PostgreSQL packages with apt (apt-get update)…');
    const u = spawnSync('apt-get', ['update', '-q'], {
      encoding: 'utf8',
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    });
    updateOutput = `${u.stdout ?? ''}${u.stderr ?? ''}${u.error ? String(u.error.message) : ''}`;
  }
  decision = decidePostgres({ useApt: true });
  if (decision.major === null) {
    fail([
      `The local database cannot be installed: ${decision.problem}.`,
      `It needs, for one PostgreSQL major N: ${decision.packages.join(' ')}.`,
      ...(decision.aptAnswer || updateOutput
        ? ['apt answered:', ...lastLines(`${updateOutput}\n${decision.aptAnswer ?? ''}`)]
        : []),
      "What to do: add an apt source that offers them (e.g. the PostgreSQL project's apt.postgresql.org),",
      `then \`sudo apt-get update\` and run this again; ${PG_MAJOR_ENV}=<major> picks a major explicitly.`,
    ]);
  }
  const packages = decision.missing;
  const command = `apt-get update && apt-get install -y --no-install-recommends ${packages.join(' ')}`;
  if (!isRoot) {
    fail([
      `The local database needs Debian packages for PostgreSQL ${decision.major} (${decision.source}): ${
        packages.join(' ')
      }.`,
      'Run as root, then run this again:',
      `    sudo sh -c '${command}'`,
    ]);
  }
  log(`installing Debian packages for PostgreSQL ${decision.major} (${decision.source}): ${packages.join(' ')}`);
  const r = spawnSync('apt-get', ['install', '-y', '-q', '--no-install-recommends', ...packages], {
    encoding: 'utf8',
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
  });
  if (r.status !== 0) {
    fail([
      `apt-get could not install ${packages.join(' ')} (exit ${r.status ?? r.error?.message}).`,
      'apt answered:',
      ...lastLines(`${r.stdout ?? ''}${r.stderr ?? ''}`),
      'Fix what apt reports, then run this again, or install them yourself:',
      `    ${command}`,
    ]);
  }
}

// ── Chromium for the browser tests (`npm test` passes --browser) ────────────────────────────
// The dashboard's browser tests drive Debian's Chromium through playwright-core: no browser
// download of its own, which this kind of machine could not fetch anyway.
if (process.argv.includes('--browser') && !existsSync('/usr/bin/chromium')) {
  const command = 'apt-get update && apt-get install -y --no-install-recommends chromium';
  if (!isRoot) {
    fail([
      "The browser tests need Debian's Chromium. Run as root, then run this again:",
      `    sudo sh -c '${command}'`,
    ]);
  }
  log('installing Debian package chromium (browser tests)…');
  const r = spawnSync('sh', ['-c', command], {
    encoding: 'utf8',
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
  });
  if (r.status !== 0) {
    fail([
      `apt-get could not install chromium (exit ${r.status ?? r.error?.message}).`,
      'apt answered:',
      ...lastLines(`${r.stdout ?? ''}${r.stderr ?? ''}`),
      'Fix what apt reports, then run this again, or install it yourself:',
      `    ${command}`,
    ]);
  }
}
