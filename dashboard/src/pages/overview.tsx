import { useEffect, useRef, useState } from 'preact/hooks';
import { api, canWrite, type Counts, features, type Job, type NameInfo, STATUSES } from '../api.ts';
import { ThroughputChart, type Minute } from '../components/chart.tsx';
import { useConfirm } from '../components/confirm.tsx';
import { LimitsDialog } from '../components/limits.tsx';
import { ago, json } from '../format.ts';
import { useLive, useThrottled } from '../live.ts';
import { useStore } from '../store.ts';
import { useResource } from '../use-resource.ts';

/** A name is stalled when it has pending jobs and no worker claimed one for this long. */
const STALL_MS = 60_000;

interface Stats {
  counts: Counts;
  byName: Record<string, Counts>;
}

/** Counts by status and name, the last hour's throughput, stalled names, pause/resume. Pushed, never polled. */
export function Overview() {
  const f = useStore(features);
  const stats = useResource(() => api<Stats>('api/stats'), []);
  const names = useResource(() => api<{ names: NameInfo[] }>('api/names'), []);
  const throughput = useResource(() => api<{ minutes: Minute[] }>('api/stats/throughput?minutes=60'), []);
  const [live, setLive] = useState<Stats | null>(null);
  const [now, setNow] = useState(Date.now());
  const [confirmElement, confirm] = useConfirm();
  const [message, setMessage] = useState('');
  const [editing, setEditing] = useState<NameInfo | null>(null);

  const reloadNames = useThrottled(names.reload, 5_000);
  const reloadThroughput = useThrottled(throughput.reload, 10_000);
  // Counts that equal what is shown (the snapshot answering the subscription) change nothing: no re-read.
  const shown = useRef('');
  useLive({ counts: true }, (m) => {
    if (m.type === 'counts') {
      setLive({ counts: m.counts, byName: m.byName });
      const key = JSON.stringify(m.byName);
      const unchanged = key === (shown.current || JSON.stringify(stats.data?.byName ?? null));
      shown.current = key;
      if (unchanged) return;
      reloadNames();
      reloadThroughput();
    } else if (m.type === 'resync') {
      stats.reload();
      names.reload();
      throughput.reload();
    }
  });
  // The stall warning depends on time passing with no events: re-evaluated locally, no request.
  useEffect(() => {
    const t = setInterval(() => !document.hidden && setNow(Date.now()), 10_000);
    return () => clearInterval(t);
  }, []);

  const current = live ?? stats.data;
  const rows = names.data?.names ?? [];
  const byName = current?.byName ?? {};
  const pendingOf = (n: NameInfo) => byName[n.name]?.pending ?? n.counts.pending;
  const claimAge = (n: NameInfo) => (n.lastClaimedAt ? now - Date.parse(n.lastClaimedAt) : Number.POSITIVE_INFINITY);

  // Stalled: a job of the name has been due for over a minute and no worker claimed one for a minute. When
  // the last claim is old, one page of the name's pending jobs says when the earliest became due (delayed jobs
  // are not stalled); read once per names re-read (which follows events), at most 20 names, and then time
  // passing is re-evaluated locally.
  const [dueSince, setDueSince] = useState<Record<string, number | null>>({});
  const checked = useRef<{ of: unknown; names: Set<string> }>({ of: null, names: new Set() });
  useEffect(() => {
    if (!names.data) return;
    if (checked.current.of !== names.data) checked.current = { of: names.data, names: new Set() };
    for (const n of rows) {
      if (pendingOf(n) === 0 || n.paused === true || claimAge(n) < STALL_MS / 2 || checked.current.names.has(n.name) || checked.current.names.size >= 20) continue;
      checked.current.names.add(n.name);
      api<{ jobs: Job[] }>(`api/jobs?status=pending&name=${encodeURIComponent(n.name)}&limit=50`).then(
        (page) => {
          const due = page.jobs.map((j) => Date.parse(j.runAt)).filter((t) => t <= Date.now());
          setDueSince((d) => ({ ...d, [n.name]: due.length ? Math.min(...due) : null }));
        },
        () => {},
      );
    }
  }, [names.data, now]);
  const stalled = rows.filter((n) => {
    const due = dueSince[n.name];
    return pendingOf(n) > 0 && n.paused !== true && claimAge(n) > STALL_MS && due != null && now - due > STALL_MS;
  });
  const flow = f?.features.flowControl === true && canWrite(f);

  const pause = async (name: string, paused: boolean) => {
    if (!paused && !(await confirm(`Pause ${name}?`, <p>Workers stop claiming {name} jobs until it is resumed. Running jobs finish.</p>, 'Pause', false))) return;
    try {
      await api(`api/names/${encodeURIComponent(name)}/${paused ? 'resume' : 'pause'}`, { method: 'POST' });
      setMessage(`${name} ${paused ? 'resumed' : 'paused'}`);
      names.reload();
    } catch (e) {
      setMessage((e as Error).message);
    }
  };

  return (
    <section>
      <h1>Overview</h1>
      {stats.error && <p class="error">{stats.error.message}</p>}
      <div class="cards">
        {STATUSES.map((s) => (
          <a class={`card card-${s}`} href={`jobs?status=${s}`} key={s}>
            <span class="card-label">{s}</span>
            <span class="card-value" data-count={s}>
              {current ? current.counts[s].toLocaleString() : '…'}
            </span>
          </a>
        ))}
      </div>
      {stalled.length > 0 && (
        <div class="warning" role="alert">
          <strong>No worker is claiming</strong>{' '}
          {stalled.map((n, i) => (
            <span key={n.name}>
              {i > 0 && ', '}
              <a href={`jobs?status=pending&name=${encodeURIComponent(n.name)}`}>{n.name}</a> (last claim {ago(n.lastClaimedAt, now)})
            </span>
          ))}
          : jobs of these names have been due for over a minute and no worker claimed one. Is a worker running for them?
        </div>
      )}
      <h2>Last hour</h2>
      {throughput.data ? <ThroughputChart minutes={throughput.data.minutes} /> : <p class="muted">{throughput.error?.message ?? 'Loading…'}</p>}
      <h2>Job names</h2>
      {message && (
        <p class="notice" role="status">
          {message}
        </p>
      )}
      <div class="table-wrap">
        <table class="names">
          <thead>
            <tr>
              <th scope="col">name</th>
              {STATUSES.map((s) => (
                <th scope="col" class="num" key={s}>
                  {s}
                </th>
              ))}
              <th scope="col">last claim</th>
              {flow && <th scope="col">flow</th>}
            </tr>
          </thead>
          <tbody>
            {rows.length === 0 && (
              <tr>
                <td colSpan={8} class="muted">
                  {names.data ? 'No jobs yet.' : 'Loading…'}
                </td>
              </tr>
            )}
            {rows.map((n) => {
              const c = byName[n.name] ?? n.counts;
              return (
                <tr key={n.name} class={stalled.includes(n) ? 'stalled' : ''}>
                  <th scope="row">
                    <a href={`jobs?name=${encodeURIComponent(n.name)}`}>{n.name}</a>
                    {n.paused === true && <span class="badge badge-paused">paused</span>}
                  </th>
                  {STATUSES.map((s) => (
                    <td class="num" key={s}>
                      {c[s] > 0 ? <a href={`jobs?status=${s}&name=${encodeURIComponent(n.name)}`}>{c[s].toLocaleString()}</a> : <span class="muted">0</span>}
                    </td>
                  ))}
                  <td>{ago(n.lastClaimedAt, now)}</td>
                  {flow && (
                    <td>
                      <button type="button" class="small" onClick={() => pause(n.name, n.paused === true)}>
                        {n.paused === true ? 'Resume' : 'Pause'}
                      </button>{' '}
                      <button type="button" class="small" onClick={() => setEditing(n)} title={n.limits ? json(n.limits, 0) : 'no limits'}>
                        Limits{n.limits ? ' ✓' : '…'}
                      </button>
                    </td>
                  )}
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
      {confirmElement}
      {editing && (
        <LimitsDialog
          name={editing.name}
          limits={editing.limits}
          onClose={(saved) => {
            setEditing(null);
            if (saved) {
              setMessage(`${editing.name}: limits saved`);
              names.reload();
            }
          }}
        />
      )}
    </section>
  );
}
