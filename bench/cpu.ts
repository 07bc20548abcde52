// CPU time per process group (the gateway, its Deno function workers, Postgres and its
// backends), read from /proc/<pid>/stat (utime + stime) before and after a fixed number of
// requests: how many milliseconds of CPU one request costs, wherever it is spent.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { API_PID, PG_DATA } from '../src/stack/config.ts';

/** Linux reports CPU times in clock ticks; 100 per second on every mainstream kernel config. */
const TICKS_PER_SECOND = 100;

export type CpuGroup = 'gateway' | 'deno' | 'postgres';
export type CpuSample = Record<CpuGroup, number>;

interface ProcStat {
  pid: number;
  ppid: number;
  ticks: number;
}

function readStat(pid: number): ProcStat | null {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces: fields are counted after its closing paren.
    const rest = text.slice(text.lastIndexOf(')') + 2).split(' ');
    return { pid, ppid: Number(rest[1]), ticks: Number(rest[11]) + Number(rest[12]) };
  } catch {
    return null;
  }
}

function allStats(): ProcStat[] {
  return readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .map((d) => readStat(Number(d)))
    .filter((s): s is ProcStat => s !== null);
}

function descendants(root: number, stats: ProcStat[]): ProcStat[] {
  const children = new Map<number, ProcStat[]>();
  for (const s of stats) children.set(s.ppid, [...(children.get(s.ppid) ?? []), s]);
  const out: ProcStat[] = [];
  const stack = [root];
  while (stack.length) {
    for (const c of children.get(stack.pop()!) ?? []) {
      out.push(c);
      stack.push(c.pid);
    }
  }
  return out;
}

const pidFrom = (file: string) => (existsSync(file) ? Number(readFileSync(file, 'utf8').split('\n')[0].trim()) : NaN);

/** Milliseconds of CPU used so far by each group of the running local stack. */
export function sampleCpu(): CpuSample {
  const stats = allStats();
  const byPid = new Map(stats.map((s) => [s.pid, s]));
  const api = pidFrom(API_PID);
  const postmaster = pidFrom(path.join(PG_DATA, 'postmaster.pid'));
  const ms = (list: (ProcStat | undefined)[]) =>
    (list.reduce((n, s) => n + (s?.ticks ?? 0), 0) * 1000) / TICKS_PER_SECOND;
  return {
    gateway: ms([byPid.get(api)]),
    deno: ms(descendants(api, stats)),
    postgres: ms([byPid.get(postmaster), ...descendants(postmaster, stats)]),
  };
}

/** CPU milliseconds per request of each group, and their total, between two samples. */
export function cpuPerRequest(before: CpuSample, after: CpuSample, requests: number) {
  const per = (g: CpuGroup) => Math.max(0, after[g] - before[g]) / requests;
  const out = { gateway: per('gateway'), deno: per('deno'), postgres: per('postgres') };
  return { ...out, total: out.gateway + out.deno + out.postgres };
}
