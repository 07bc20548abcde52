#!/usr/bin/env node
// `npm run lock`: regenerates package-lock.json after a dependency change, complete for every
// platform (deno, esbuild, rollup and supabase ship one optional binary package per platform).
// npm resolves in a scratch folder without node_modules: next to an installed tree it would
// record only this machine's binaries, and `npm ci` elsewhere would then refuse the lockfile.
// Versions already locked are kept where that yields a complete lockfile; otherwise (a lockfile
// written next to an installed tree lacks other platforms' packages) everything is resolved anew.
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const scratch = mkdtempSync(path.join(os.tmpdir(), 'ai-cache-lock-'));
try {
  copyFileSync(path.join(root, 'package.json'), path.join(scratch, 'package.json'));
  if (existsSync(path.join(root, 'package-lock.json'))) {
    copyFileSync(path.join(root, 'package-lock.json'), path.join(scratch, 'package-lock.json'));
  }
  const resolve = () =>
    execFileSync('npm', [
      'install',
      '--package-lock-only',
      '--ignore-scripts',
      '--no-audit',
      '--no-fund',
      '--omit-lockfile-registry-resolved',
    ], { cwd: scratch, stdio: 'inherit' });
  resolve();
  const missing = missingOptionals(path.join(scratch, 'package-lock.json'));
  if (missing.length) {
    console.log(
      `the kept lockfile lacks ${missing.length} platform packages (${
        missing.slice(0, 3).join(', ')
      }…): resolving from scratch`,
    );
    rmSync(path.join(scratch, 'package-lock.json'));
    resolve();
    const still = missingOptionals(path.join(scratch, 'package-lock.json'));
    if (still.length) recordUnpublished(path.join(scratch, 'package-lock.json'), still);
  }
  copyFileSync(path.join(scratch, 'package-lock.json'), path.join(root, 'package-lock.json'));
  console.log('package-lock.json regenerated; `npm start` / `npm test` install it with `npm ci`. Commit it.');
} finally {
  rmSync(scratch, { recursive: true, force: true });
}

/**
 * The registry may lack some platform packages a dependency lists (e.g. a mirror without
 * @supabase/cli-darwin-arm64@3.1.0); npm then leaves them out, and `npm ci` refuses its own
 * lockfile. They are recorded as npm records any other platform's package (optional, os/cpu from
 * the name), so npm ci skips them here and would fetch them where they exist.
 */
function recordUnpublished(lockfile, names) {
  const lock = JSON.parse(readFileSync(lockfile, 'utf8'));
  const { packages } = lock;
  for (const [, pkg] of Object.entries(packages)) {
    for (const [name, version] of Object.entries(pkg.optionalDependencies ?? {})) {
      if (!names.includes(name) || packages[`node_modules/${name}`]) continue;
      const os = /(darwin|linux|win32|windows|freebsd|openbsd|netbsd|android|sunos|aix)/.exec(name)?.[1];
      const cpu = /(arm64|x64|ia32|arm|ppc64|s390x|riscv64|loong64)/.exec(name)?.[1];
      const entry = { version, optional: true };
      if (cpu) entry.cpu = [cpu];
      if (os === 'linux') entry.libc = [/musl/.test(name) ? 'musl' : 'glibc'];
      if (os) entry.os = [os === 'windows' ? 'win32' : os];
      packages[`node_modules/${name}`] = entry;
      console.log(`the registry has no ${name}@${version}: recorded as another platform's optional package`);
    }
  }
  const keys = Object.keys(packages).sort((a, b) => (a === '' ? -1 : b === '' ? 1 : a.localeCompare(b)));
  lock.packages = Object.fromEntries(keys.map((k) => [k, packages[k]]));
  writeFileSync(lockfile, `${JSON.stringify(lock, null, 2)}\n`);
}

/** Optional dependencies (platform binaries) that no lockfile entry provides. */
function missingOptionals(lockfile) {
  const { packages } = JSON.parse(readFileSync(lockfile, 'utf8'));
  const missing = [];
  for (const [where, pkg] of Object.entries(packages)) {
    for (const name of Object.keys(pkg.optionalDependencies ?? {})) {
      // Node's lookup: the package's own node_modules, then each ancestor's, then the root's.
      let found = false;
      for (
        let dir = where;;
        dir = dir.includes('/node_modules/') ? dir.slice(0, dir.lastIndexOf('/node_modules/')) : ''
      ) {
        if (packages[`${dir ? `${dir}/` : ''}node_modules/${name}`]) {
          found = true;
          break;
        }
        if (!dir) break;
      }
      if (!found) missing.push(name);
    }
  }
  return [...new Set(missing)];
}
