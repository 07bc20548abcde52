// What a laptop does to the local database: restart it, crash it, freeze it. Only for the
// local stack (the state folder of `npm run stack`); suites using it run alone, after the
// others (the `disruptive` project in vitest.config.ts).
import { execFile } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { PG_BIN, PG_DATA } from '../../src/stack/config.ts';
import { startPostgres } from '../../src/stack/postgres.ts';

const run = promisify(execFile);

/** pg_ctl as the cluster's owner (PostgreSQL refuses to run as root). */
async function pgCtl(args: string[]): Promise<void> {
  const bin = path.join(PG_BIN, 'pg_ctl');
  const [cmd, argv] = process.getuid?.() === 0 ? ['runuser', ['-u', 'postgres', '--', bin, ...args]] : [bin, args];
  await run(cmd, argv, { cwd: '/tmp' });
}

/** `pg_ctl restart -m fast`: clients are disconnected, the server comes back at once. */
export async function restartDatabase(): Promise<void> {
  await pgCtl([
    'restart',
    '-D',
    PG_DATA,
    '-m',
    'fast',
    '-w',
    '-t',
    '60',
    '-l',
    path.join(path.dirname(PG_DATA), 'postgres.log'),
  ]);
}

/** Like a crash: every process stops at once, without a shutdown checkpoint. */
export async function crashDatabase(): Promise<void> {
  await pgCtl(['stop', '-D', PG_DATA, '-m', 'immediate', '-w']);
}

/** Starts the database again after crashDatabase (crash recovery runs first). */
export async function startDatabase(): Promise<void> {
  await startPostgres();
}

/** The postmaster and every backend and worker it started. */
function clusterPids(): number[] {
  const postmaster = Number(readFileSync(path.join(PG_DATA, 'postmaster.pid'), 'utf8').split('\n')[0]);
  const pids = [postmaster];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === postmaster) pids.push(Number(entry));
    } catch {
      // The process ended while we looked.
    }
  }
  return pids;
}

/** Freezes the whole database (SIGSTOP): connections stay open, nothing answers. Returns thaw(). */
export function freezeDatabase(): () => void {
  const pids = clusterPids();
  for (const pid of pids) process.kill(pid, 'SIGSTOP');
  return () => {
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGCONT');
      } catch {
        // Already gone.
      }
    }
  };
}
