#!/usr/bin/env node
// Installs what a fresh machine lacks before `npm start` / `npm test` / `npm run stack`:
// npm packages from the lockfile, and the Debian packages of the local database.
// Plain Node on purpose: it runs before node_modules exists.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const APT_PACKAGES = {
  'postgresql-15': () => existsSync('/usr/lib/postgresql/15/bin/postgres'),
  'postgresql-contrib': () => existsSync('/usr/share/postgresql/15/extension/pg_stat_statements.control'),
  'postgresql-15-cron': () => existsSync('/usr/lib/postgresql/15/lib/pg_cron.so'),
  'postgresql-15-pgtap': () => existsSync('/usr/share/postgresql/15/extension/pgtap.control'),
  'libtap-parser-sourcehandler-pgtap-perl': () => spawnSync('sh', ['-c', 'command -v pg_prove'], { stdio: 'ignore' }).status === 0,
  // The dashboard's browser tests drive Debian's Chromium through playwright-core.
  chromium: () => existsSync('/usr/bin/chromium'),
};

function log(msg) {
  console.error(`[deps] ${msg}`);
}

function npmPackagesCurrent() {
  const marker = path.join(root, 'node_modules/.package-lock.json');
  if (!existsSync(marker)) return false;
  return statSync(marker).mtimeMs >= statSync(path.join(root, 'package-lock.json')).mtimeMs - 1000;
}

if (!npmPackagesCurrent()) {
  // `npm install` installs the lockfile's exact versions. Not `npm ci`: npm 11 records only
  // this platform's optional binaries (deno, esbuild, rollup) in the lockfile, and `npm ci`
  // then refuses the lockfile as out of sync.
  log('installing npm packages from package-lock.json…');
  execFileSync('npm', ['install', '--no-audit', '--no-fund'], { cwd: root, stdio: 'inherit' });
}

const missing = Object.entries(APT_PACKAGES).filter(([, present]) => !present()).map(([name]) => name);
if (missing.length > 0) {
  const cmd = `apt-get update && apt-get install -y ${missing.join(' ')}`;
  if (process.getuid?.() === 0) {
    log(`installing Debian packages: ${missing.join(' ')}`);
    execFileSync('sh', ['-c', `DEBIAN_FRONTEND=noninteractive ${cmd.replace('install -y', 'install -y -q --no-install-recommends')}`], {
      stdio: 'inherit',
    });
  } else {
    console.error(`Missing Debian packages for the local database. Run as root:\n  sudo sh -c '${cmd}'`);
    process.exit(1);
  }
}
