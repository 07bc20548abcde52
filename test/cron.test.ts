// The nightly cleanup, proven end to end in the local database: the real pg_cron job
// `ai-cache-cleanup` is moved to a near schedule, pg_cron runs it, cron.job_run_details records
// a successful run, the expired rows are gone (the fresh one stays), and the nightly schedule
// is restored whatever happens.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { countEntries, dropCompanies, holdAdminSuiteLock, insertEntry } from './helpers/admin.ts';
import { destructiveRefusal } from './helpers/destructive.ts';
import { adminSql, closeAdminSql, DB_URL, eventually, SUPABASE_URL } from './helpers/stack.ts';

const NIGHTLY = '0 3 * * *';
const company = randomUUID();
let releaseLock: () => Promise<void> = async () => {};

beforeAll(async () => {
  const refusal = destructiveRefusal(
    [SUPABASE_URL, DB_URL],
    process.env,
    'the nightly cleanup deletes every expired entry of the database',
  );
  if (refusal) throw new Error(refusal);
  // The job deletes every expired row of the database: not while the other admin suites hold
  // expired fixtures (they take this lock shared).
  releaseLock = await holdAdminSuiteLock('exclusive');
}, 900_000); // waits for the CLI suite, minutes on a busy machine

afterAll(async () => {
  await dropCompanies([company]);
  await closeAdminSql();
  await releaseLock();
});

/** pg_cron accepts '[1-59] seconds' schedules from 1.5 on; 1.4 (Debian 12) has minutes only. */
function nearSchedule(extversion: string): string {
  const [major, minor] = extversion.split(/[.-]/).map(Number);
  return major > 1 || (major === 1 && minor >= 5) ? '1 seconds' : '* * * * *';
}

describe('nightly cleanup through pg_cron', () => {
  it(
    'runs cleanup_expired_cache() from the ai-cache-cleanup job, records success, and the nightly schedule is restored',
    async () => {
      const sql = adminSql();
      const [ext] = await sql`select extversion from pg_extension where extname = 'pg_cron'`;
      expect(ext, 'pg_cron is installed').toBeDefined();
      const [job] =
        await sql`select jobid, schedule, command, username, active from cron.job where jobname = 'ai-cache-cleanup'`;
      expect(job, 'the ai-cache-cleanup job exists').toBeDefined();
      expect(job.command).toBe('select public.cleanup_expired_cache()');

      for (let i = 0; i < 3; i++) await insertEntry({ companyId: company, expiresInSeconds: -60 * (i + 1) });
      await insertEntry({ companyId: company, expiresInSeconds: 3600 });
      const [{ last }] =
        await sql`select coalesce(max(runid), 0)::bigint as last from cron.job_run_details where jobid = ${job.jobid}`;

      try {
        await sql`select cron.alter_job(${job.jobid}, schedule => ${nearSchedule(ext.extversion as string)})`;
        // pg_cron starts the job at the next tick (the next minute on 1.4): poll with a deadline.
        const run = await eventually(async () => {
          const [r] = await sql`
          select runid, status, return_message from cron.job_run_details
          where jobid = ${job.jobid} and runid > ${last} and status in ('succeeded', 'failed')
          order by runid limit 1`;
          if (!r) throw new Error('pg_cron has not finished a run of ai-cache-cleanup yet');
          return r;
        }, 150_000);
        expect(run.status, `pg_cron run failed: ${run.return_message}`).toBe('succeeded');
      } finally {
        await sql`select cron.alter_job(${job.jobid}, schedule => ${NIGHTLY})`;
      }

      const [after] =
        await sql`select schedule, command, username, active from cron.job where jobname = 'ai-cache-cleanup'`;
      expect(after).toEqual({ schedule: NIGHTLY, command: job.command, username: job.username, active: true });
      expect(await countEntries(company)).toBe(1); // the expired rows are gone, the fresh one stays
      const [{ jobs }] = await sql`select public.get_cache_metrics() -> 'jobs' as jobs`;
      expect(jobs).toContainEqual(
        expect.objectContaining({ job: 'ai-cache-cleanup', schedule: NIGHTLY, last_status: 'succeeded' }),
      );
    },
    240_000,
  );
});
