import Link from 'next/link';
import type { JobOrigin } from '@opsc/contracts';

/** What started a job, as a few words for its header: nothing for a person's own request. */
export function OriginNote({ origin }: { origin: JobOrigin }) {
  if (origin.kind === 'manual') return null;
  const what =
    origin.kind === 'retry' ? (
      <>
        retry of <Link href={`/jobs/${encodeURIComponent(origin.jobId)}`}>{origin.jobId}</Link>
      </>
    ) : origin.kind === 'template' ? (
      <>
        template <code>{origin.templateId}</code> v{origin.version}
      </>
    ) : origin.kind === 'schedule' ? (
      <>
        schedule <Link href={`/schedules#${encodeURIComponent(origin.scheduleId)}`}>{origin.scheduleId}</Link> (template{' '}
        <code>{origin.templateId}</code> v{origin.version})
      </>
    ) : (
      <>
        trigger <code>{origin.triggerId}</code> (template <code>{origin.templateId}</code> v{origin.version})
      </>
    );
  return (
    <>
      {' '}
      · <span data-testid="job-origin">started by {what}</span>
    </>
  );
}
