import { useState } from 'preact/hooks';
import { api, canWrite, features, type Job } from '../api.ts';
import { useConfirm } from '../components/confirm.tsx';
import { Progress, StatusBadge } from '../components/progress.tsx';
import { duration, json, when } from '../format.ts';
import { useLive, useThrottled } from '../live.ts';
import { navigate } from '../route.ts';
import { useStore } from '../store.ts';
import { useResource } from '../use-resource.ts';
import { type Message, Notice } from '../components/notice.tsx';

/** One job: data, result, progress (live), attempt history with stacks, times, worker, and its actions. */
export function JobPage({ id }: { id: string }) {
  const f = useStore(features);
  const job = useResource(() => api<Job>(`api/jobs/${encodeURIComponent(id)}`), [id]);
  const [liveJob, setLiveJob] = useState<Job | null>(null);
  const [message, setMessage] = useState<Message | null>(null);
  const [busy, setBusy] = useState(false);
  const [confirmElement, confirm] = useConfirm();
  const reload = useThrottled(job.reload, 500);

  useLive({ ids: [id] }, (m) => {
    // 'subscribed': from now on every change of this job arrives; re-read once to close the gap since the first read.
    if (m.type === 'resync' || m.type === 'subscribed') return reload();
    if (!('job' in m) || m.job.id !== id) return;
    if (m.type === 'deleted') return setMessage({ text: 'This job was deleted.' });
    // Progress events carry the job; state changes re-read it, for the attempt history.
    if (m.type === 'progress') setLiveJob(m.job);
    else reload();
  });

  // A progress event updates the bar of the attempt read last; anything else comes from a re-read.
  const j =
    job.data && liveJob && liveJob.id === job.data.id && job.data.status === 'running' && liveJob.attempts === job.data.attempts
      ? { ...job.data, progress: liveJob.progress }
      : job.data;
  if (job.error && !j) return <p class="error">{job.error.message}</p>;
  if (!j) return <p class="muted">Loading…</p>;

  const act = async (action: 'retry' | 'cancel' | 'delete') => {
    if (action !== 'retry') {
      const ok = await confirm(
        `${action === 'cancel' ? 'Cancel' : 'Delete'} this job?`,
        <p>{action === 'cancel' ? 'A pending job will not run; a running one is asked to stop.' : 'The job and its history are removed for good.'}</p>,
        action === 'cancel' ? 'Cancel job' : 'Delete job',
      );
      if (!ok) return;
    }
    setBusy(true);
    setMessage(null);
    try {
      if (action === 'delete') {
        await api(`api/jobs/${encodeURIComponent(id)}`, { method: 'DELETE' });
        navigate('jobs');
        return;
      }
      await api(`api/jobs/${encodeURIComponent(id)}/${action}`, { method: 'POST' });
      setLiveJob(null);
      setMessage({ text: action === 'retry' ? 'Queued again.' : 'Cancel requested.' });
      job.reload();
    } catch (e) {
      setMessage({ text: (e as Error).message, error: true });
    } finally {
      setBusy(false);
    }
  };

  const writable = canWrite(f);
  const attempts = [...(j.errors ?? [])].sort((a, b) => b.attempt - a.attempt);
  return (
    <section class="job">
      <p class="crumbs">
        <a href={`jobs?name=${encodeURIComponent(j.name)}`}>← {j.name} jobs</a>
      </p>
      <h1>
        {j.name} <StatusBadge status={j.status} />
      </h1>
      <p class="mono muted">id {j.id}</p>
      {writable && (
        <div class="toolbar" aria-label="job actions">
          {(j.status === 'failed' || j.status === 'cancelled' || j.status === 'completed') && (
            <button type="button" class="primary" disabled={busy} onClick={() => act('retry')}>
              Retry
            </button>
          )}
          {(j.status === 'pending' || j.status === 'running') && (
            <button type="button" disabled={busy || j.cancelRequested} onClick={() => act('cancel')}>
              {j.cancelRequested ? 'Cancel requested' : 'Cancel'}
            </button>
          )}
          <button type="button" class="danger" disabled={busy} onClick={() => act('delete')}>
            Delete
          </button>
        </div>
      )}
      <Notice message={message} />
      <div class="grid">
        <dl class="facts">
          <dt>Progress</dt>
          <dd class="cell-progress">
            <Progress value={j.progress} status={j.status} />
          </dd>
          <dt>Attempts</dt>
          <dd>
            {j.attempts} of {j.maxAttempts}
          </dd>
          <dt>Worker</dt>
          <dd class="mono">{j.processingBy ?? '—'}</dd>
          <dt>Priority</dt>
          <dd>{j.priority}</dd>
          <dt>Created</dt>
          <dd>{when(j.createdAt)}</dd>
          <dt>Run at</dt>
          <dd>{when(j.runAt)}</dd>
          <dt>Started</dt>
          <dd>{when(j.startedAt)}</dd>
          <dt>Finished</dt>
          <dd>
            {when(j.completedAt)} {j.completedAt && <span class="muted">({duration(j.startedAt, j.completedAt)})</span>}
          </dd>
          {j.uniqueKey && (
            <>
              <dt>Unique key</dt>
              <dd class="mono">{j.uniqueKey}</dd>
            </>
          )}
        </dl>
        <div>
          <h2>Data</h2>
          <pre class="json" data-field="data">
            {json(j.data)}
          </pre>
          <h2>Result</h2>
          <pre class="json" data-field="result">
            {json(j.result)}
          </pre>
          {j.progress !== null && j.progress !== undefined && (
            <>
              <h2>Progress value</h2>
              <pre class="json">{json(j.progress)}</pre>
            </>
          )}
        </div>
      </div>
      <h2>Attempt history</h2>
      {attempts.length === 0 ? (
        <p class="muted">No failed attempts.</p>
      ) : (
        <ol class="attempts">
          {attempts.map((a) => (
            <li key={`${a.attempt}-${a.at}`} data-attempt={a.attempt}>
              <div>
                <strong>Attempt {a.attempt}</strong> <span class="muted">{when(a.at)}</span>
                {a.workerId && <span class="muted mono"> on {a.workerId}</span>}
              </div>
              <p class="error-message">{a.message}</p>
              {a.stack && (
                <details>
                  <summary>Stack</summary>
                  <pre class="stack">{a.stack}</pre>
                </details>
              )}
            </li>
          ))}
        </ol>
      )}
      {confirmElement}
    </section>
  );
}
