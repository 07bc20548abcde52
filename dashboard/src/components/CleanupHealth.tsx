// The nightly cleanup job (pg_cron ai-cache-cleanup): when it last ran and whether it succeeded.
import type { CleanupJob } from '../api.ts';
import { when } from '../format.ts';

export function CleanupHealth({ job }: { job: CleanupJob | null }) {
  let verdict: string;
  if (!job) {
    verdict = 'Not scheduled: pg_cron or the ai-cache-cleanup job is missing, so expired entries are not removed.';
  } else if (!job.active) verdict = 'Paused: the job is scheduled but inactive.';
  else if (!job.last_run_at) verdict = 'Scheduled, has not run yet.';
  else if (job.last_status === 'succeeded') verdict = 'Healthy: the last run succeeded.';
  else verdict = 'Failing: the last run did not succeed; check cron.job_run_details.';
  return (
    <section aria-labelledby='cleanup-title' className='panel'>
      <h2 id='cleanup-title'>Nightly cleanup</h2>
      <p className={job?.last_status === 'failed' ? 'error' : undefined}>{verdict}</p>
      {job && (
        <dl className='facts'>
          <dt>Schedule</dt>
          <dd>{job.schedule} (UTC)</dd>
          <dt>Last run</dt>
          <dd>{when(job.last_run_at)}</dd>
          <dt>Last status</dt>
          <dd>{job.last_status ?? '—'}</dd>
          <dt>Last success</dt>
          <dd>{when(job.last_success_at)}</dd>
        </dl>
      )}
    </section>
  );
}
