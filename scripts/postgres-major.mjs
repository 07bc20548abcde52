// The one place that decides which PostgreSQL major the local stack runs, and what Debian
// packages that major needs. Plain Node (no dependencies): scripts/ensure-deps.mjs uses it before
// node_modules exists, and src/stack/config.ts uses it for the paths of the running stack.
//
// Order: STACK_PG_MAJOR if set; else the newest installed server whose pg_cron and pgTAP are
// installed; else (when apt may be asked) the newest installed server whose extensions apt
// offers; else the newest major apt offers with server, pg_cron and pgTAP together
// (15 on Debian 12, 17 on Debian 13).
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';

export const PG_MAJOR_ENV = 'STACK_PG_MAJOR';

/** Where Debian's packages put a major's files (postgresql-common's layout). */
export function pgPaths(major) {
  return {
    bin: `/usr/lib/postgresql/${major}/bin`,
    lib: `/usr/lib/postgresql/${major}/lib`,
    extensions: `/usr/share/postgresql/${major}/extension`,
  };
}

/** pg_prove (pgTAP's test runner) is packaged apart from the server extension. */
export const PG_PROVE_PACKAGE = 'libtap-parser-sourcehandler-pgtap-perl';

/** The Debian packages the local stack needs for a major, each with a check that it is installed. */
export function debianPackages(major) {
  const p = pgPaths(major);
  return [
    // pg_stat_statements (preloaded, used by the advisors) ships in the server package.
    {
      name: `postgresql-${major}`,
      installed: () =>
        existsSync(path.join(p.bin, 'postgres')) && existsSync(path.join(p.extensions, 'pg_stat_statements.control')),
    },
    { name: `postgresql-${major}-cron`, installed: () => existsSync(path.join(p.lib, 'pg_cron.so')) },
    { name: `postgresql-${major}-pgtap`, installed: () => existsSync(path.join(p.extensions, 'pgtap.control')) },
    { name: PG_PROVE_PACKAGE, installed: () => commandExists('pg_prove') },
  ];
}

function commandExists(cmd) {
  return (process.env.PATH ?? '').split(':').some((dir) => dir && existsSync(path.join(dir, cmd)));
}

export function missingPackages(major) {
  return debianPackages(major).filter((p) => !p.installed()).map((p) => p.name);
}

/** Majors with a server binary installed, newest first. */
export function installedMajors() {
  const base = '/usr/lib/postgresql';
  if (!existsSync(base)) return [];
  return readdirSync(base)
    .filter((d) => /^\d+$/.test(d) && existsSync(path.join(base, d, 'bin', 'postgres')))
    .map(Number)
    .sort((a, b) => b - a);
}

/** `apt-cache policy` for packages: name → candidate version, or null when apt has none. */
export function aptCandidates(names) {
  let out = '';
  try {
    out = execFileSync('apt-cache', ['policy', ...names], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  } catch {
    return { answer: 'apt-cache is not available', candidates: Object.fromEntries(names.map((n) => [n, null])) };
  }
  const candidates = Object.fromEntries(names.map((n) => [n, null]));
  let current = null;
  for (const line of out.split('\n')) {
    const head = /^(\S+):$/.exec(line);
    if (head) current = head[1];
    const cand = /^\s+Candidate:\s+(\S+)/.exec(line);
    if (cand && current && current in candidates) candidates[current] = cand[1] === '(none)' ? null : cand[1];
  }
  return { answer: out.trim(), candidates };
}

/** Server majors apt knows a `postgresql-N` package for, newest first. */
function aptMajors() {
  try {
    const out = execFileSync('apt-cache', ['pkgnames', 'postgresql-'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    return [
      ...new Set(out.split('\n').map((l) => /^postgresql-(\d+)$/.exec(l.trim())?.[1]).filter(Boolean).map(Number)),
    ].sort((a, b) => b - a);
  } catch {
    return [];
  }
}

function installable(major) {
  const missing = missingPackages(major);
  if (missing.length === 0) return { ok: true, missing, answer: '' };
  const { answer, candidates } = aptCandidates(missing);
  return { ok: missing.every((n) => candidates[n]), missing, answer };
}

/**
 * Decides the major. Returns { major, source, missing } where missing lists the Debian packages
 * still to install, or { major: null, problem, aptAnswer, packages } when no major can work.
 * `useApt: false` answers from the file system alone (fast; for commands run after the install).
 */
export function decidePostgres({ env = process.env, useApt = true, clusterMajor } = {}) {
  const forced = env[PG_MAJOR_ENV];
  if (forced !== undefined && forced !== '') {
    if (!/^\d+$/.test(forced)) {
      return {
        major: null,
        problem: `${PG_MAJOR_ENV}=${forced} is not a PostgreSQL major (e.g. 15 or 17)`,
        packages: [],
      };
    }
    const major = Number(forced);
    return { major, source: `${PG_MAJOR_ENV}=${forced}`, missing: missingPackages(major) };
  }
  const installed = installedMajors();
  // A cluster already created keeps the major it was created with, while that server is complete.
  if (clusterMajor && installed.includes(clusterMajor) && missingPackages(clusterMajor).length === 0) {
    return { major: clusterMajor, source: 'the existing cluster', missing: [] };
  }
  const complete = installed.find((m) => missingPackages(m).length === 0);
  if (complete !== undefined) return { major: complete, source: 'installed server', missing: [] };
  if (!useApt) {
    const newest = installed[0];
    return newest !== undefined
      ? { major: newest, source: 'installed server', missing: missingPackages(newest) }
      : { major: null, problem: 'no PostgreSQL server is installed', packages: [] };
  }
  for (const m of installed) {
    const r = installable(m);
    if (r.ok) return { major: m, source: 'installed server (extensions from apt)', missing: r.missing };
  }
  const answers = [];
  for (const m of aptMajors()) {
    if (installed.includes(m)) continue;
    const r = installable(m);
    if (r.ok) return { major: m, source: 'newest major apt offers', missing: r.missing };
    answers.push(r.answer);
  }
  const tried = aptMajors();
  return {
    major: null,
    problem: tried.length === 0
      ? 'apt offers no postgresql-N server package (are the package lists empty? run apt-get update)'
      : `apt offers no PostgreSQL major (${tried.join(', ')}) with both pg_cron and pgTAP packages`,
    aptAnswer: answers.join('\n').trim(),
    packages: debianPackages('N').map((p) => p.name),
  };
}
