import { useEffect, useRef, useState } from 'preact/hooks';
import { api, canWrite, features, type Filter, filterQuery, type Job, type JobStatus, type NameInfo, STATUSES } from '../api.ts';
import { useConfirm } from '../components/confirm.tsx';
import { Progress, StatusBadge } from '../components/progress.tsx';
import { preview, when } from '../format.ts';
import { useLive, useThrottled } from '../live.ts';
import { navigate, type Route } from '../route.ts';
import { useStore } from '../store.ts';
import { useResource } from '../use-resource.ts';
import { type Message, Notice } from '../components/notice.tsx';

const PAGE = 50;

/** The filter in the URL: ?status=&name=&data=<JSON>; a bad data value is reported, not sent. */
function filterOf(query: URLSearchParams): { filter: Filter; dataError: string | null } {
  const filter: Filter = {};
  const status = query.get('status');
  if (status && (STATUSES as string[]).includes(status)) filter.status = status as JobStatus;
  const name = query.get('name');
  if (name) filter.name = name;
  const data = query.get('data');
  let dataError: string | null = null;
  if (data) {
    const parsed = parseDataFilter(data);
    if (typeof parsed === 'string') dataError = parsed;
    else filter.data = parsed;
  }
  return { filter, dataError };
}

/** A JSON object, or what is wrong with the text. */
export function parseDataFilter(text: string): Record<string, unknown> | string {
  try {
    const v: unknown = JSON.parse(text);
    if (v && typeof v === 'object' && !Array.isArray(v)) return v as Record<string, unknown>;
    return 'the data filter must be a JSON object, e.g. {"repo": "a/b"}';
  } catch (e) {
    return `the data filter is not valid JSON (${(e as Error).message})`;
  }
}

/**
 * The job table: filters kept in the URL (shareable), cursor pages, live progress of the rows shown, and the
 * bulk actions on the filter (count first, then a confirmation). `locked` fixes the status (the dead-letter view).
 */
export function Jobs({ route, locked }: { route: Route; locked?: JobStatus }) {
  const f = useStore(features);
  const writable = canWrite(f);
  const { filter: urlFilter, dataError } = filterOf(route.query);
  const filter: Filter = locked ? { ...urlFilter, status: locked } : urlFilter;
  const cursor = route.query.get('cursor');
  const key = `${JSON.stringify(filter)}|${cursor}`;
  const page = useResource(() => {
    if (dataError) return Promise.reject(new Error(dataError));
    const q = filterQuery(filter);
    q.set('limit', String(PAGE));
    if (cursor) q.set('cursor', cursor);
    return api<{ jobs: Job[]; nextCursor: string | null }>(`api/jobs?${q}`);
  }, [key]);
  const names = useResource(() => api<{ names: NameInfo[] }>('api/names'), []);
  const [rows, setRows] = useState<Job[]>([]);
  const [message, setMessage] = useState<Message | null>(null);
  const [confirmElement, confirm] = useConfirm();
  useEffect(() => setRows(page.data?.jobs ?? []), [page.data]);

  // Live: the rows shown (by id) and new jobs of the filtered name; counts tell when to re-read the page.
  const reload = useThrottled(page.reload, 2_000);
  const ids = rows.map((j) => j.id);
  // Counts of the filtered name (or all of them) that did not move mean no job entered or left this list.
  const seen = useRef('');
  useLive({ ids: ids.slice(0, 1000), ...(filter.name ? { names: [filter.name] } : {}), counts: true }, (m) => {
    if (m.type === 'resync') return reload();
    if (m.type === 'counts') {
      const key = JSON.stringify(filter.name ? (m.byName[filter.name] ?? null) : m.counts);
      const moved = seen.current !== '' && seen.current !== key;
      const first = seen.current === '';
      seen.current = key;
      // The first push answers the subscription: re-read once, for anything between the page's read and it.
      if (moved || first) reload();
      return;
    }
    if (m.type === 'deleted' || !('job' in m)) return;
    const job = m.job;
    setRows((current) => current.map((r) => (r.id === job.id ? { ...r, ...job } : r)));
  });

  const setQuery = (changes: Record<string, string | null>) => {
    const q = new URLSearchParams(route.query);
    for (const [k, v] of Object.entries(changes)) {
      if (v === null || v === '') q.delete(k);
      else q.set(k, v);
    }
    if (!('cursor' in changes)) q.delete('cursor');
    const s = q.toString();
    navigate(`${locked ? 'failed' : 'jobs'}${s ? `?${s}` : ''}`);
  };

  const bulk = async (action: 'retry' | 'cancel' | 'delete') => {
    setMessage(null);
    try {
      const { count } = await api<{ count: number }>(`api/jobs/count?${filterQuery(filter)}`);
      if (count === 0) return setMessage({ text: `No jobs match this filter: nothing to ${action}.` });
      const what = describe(filter);
      const ok = await confirm(
        `${cap(action)} ${count.toLocaleString()} ${count === 1 ? 'job' : 'jobs'}?`,
        <p>
          This will {action} <strong data-bulk-count>{count.toLocaleString()}</strong> {count === 1 ? 'job' : 'jobs'} matching {what}.
          {action === 'delete' && ' Deleted jobs cannot be brought back.'}
        </p>,
        `${cap(action)} ${count.toLocaleString()}`,
        action !== 'retry',
      );
      if (!ok) return;
      const result = await api<{ count: number }>(`api/jobs/bulk/${action}`, { method: 'POST', body: { filter } });
      setMessage({ text: `${cap(action)}: ${result.count.toLocaleString()} ${result.count === 1 ? 'job' : 'jobs'}.` });
      page.reload();
    } catch (e) {
      setMessage({ text: (e as Error).message, error: true });
    }
  };

  return (
    <section>
      <h1>{locked === 'failed' ? 'Dead letters' : 'Jobs'}</h1>
      {locked === 'failed' && <p class="muted">Jobs that failed every attempt. Retry them once the cause is fixed.</p>}
      <FilterForm filter={filter} dataText={route.query.get('data') ?? ''} locked={locked} names={names.data?.names ?? []} onApply={setQuery} />
      {writable && (
        <div class="toolbar" aria-label="bulk actions">
          <span class="muted">On every job matching the filter:</span>
          <button type="button" class={locked ? 'primary' : ''} onClick={() => bulk('retry')}>
            {locked ? 'Retry all' : 'Retry…'}
          </button>
          {!locked && (
            <button type="button" onClick={() => bulk('cancel')}>
              Cancel…
            </button>
          )}
          <button type="button" class="danger" onClick={() => bulk('delete')}>
            Delete…
          </button>
        </div>
      )}
      <Notice message={message} />
      {page.error && <p class="error">{page.error.message}</p>}
      <div class="table-wrap">
        <table class="jobs">
          <thead>
            <tr>
              <th scope="col">id</th>
              <th scope="col">name</th>
              <th scope="col">status</th>
              <th scope="col">progress</th>
              <th scope="col" class="num">attempts</th>
              <th scope="col">created</th>
              <th scope="col">data</th>
            </tr>
          </thead>
          <tbody>
            {rows.length === 0 && (
              <tr>
                <td colSpan={7} class="muted">
                  {page.data ? (page.data.nextCursor ? 'No matches in this stretch of jobs; try the next page.' : 'No jobs match.') : page.error ? '' : 'Loading…'}
                </td>
              </tr>
            )}
            {rows.map((j) => (
              <tr key={j.id} data-job={j.id}>
                <td class="mono">
                  <a href={`jobs/${encodeURIComponent(j.id)}`}>{j.id.length > 12 ? `${j.id.slice(0, 12)}…` : j.id}</a>
                </td>
                <td>{j.name}</td>
                <td>
                  <StatusBadge status={j.status} />
                </td>
                <td class="cell-progress">
                  <Progress value={j.progress} status={j.status} />
                </td>
                <td class="num">
                  {j.attempts}/{j.maxAttempts}
                </td>
                <td class="nowrap">{when(j.createdAt)}</td>
                <td class="mono data-cell">{preview(j.data)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <nav class="pager" aria-label="pages">
        {cursor && (
          <button type="button" onClick={() => setQuery({ cursor: null })}>
            ← First page
          </button>
        )}
        {page.data?.nextCursor && (
          <button type="button" onClick={() => setQuery({ cursor: page.data!.nextCursor })}>
            Next page →
          </button>
        )}
      </nav>
      {confirmElement}
    </section>
  );
}

function FilterForm(props: { filter: Filter; dataText: string; locked: JobStatus | undefined; names: NameInfo[]; onApply: (q: Record<string, string | null>) => void }) {
  const [status, setStatus] = useState(props.filter.status ?? '');
  const [name, setName] = useState(props.filter.name ?? '');
  const [data, setData] = useState(props.dataText);
  useEffect(() => {
    setStatus(props.filter.status ?? '');
    setName(props.filter.name ?? '');
    setData(props.dataText);
  }, [props.filter.status, props.filter.name, props.dataText]);
  const dataError = data.trim() ? parseDataFilter(data) : null;
  const invalid = typeof dataError === 'string';
  return (
    <form
      class="filters"
      role="search"
      onSubmit={(e) => {
        e.preventDefault();
        if (invalid) return;
        props.onApply({ ...(props.locked ? {} : { status }), name, data: data.trim() ? JSON.stringify(JSON.parse(data)) : null });
      }}
    >
      {!props.locked && (
        <label>
          Status
          <select name="status" value={status} onChange={(e) => setStatus(e.currentTarget.value)}>
            <option value="">any</option>
            {STATUSES.map((s) => (
              <option value={s} key={s}>
                {s}
              </option>
            ))}
          </select>
        </label>
      )}
      <label>
        Name
        <input name="name" list="job-names" value={name} placeholder="any" onInput={(e) => setName(e.currentTarget.value)} />
        <datalist id="job-names">
          {props.names.map((n) => (
            <option value={n.name} key={n.name} />
          ))}
        </datalist>
      </label>
      <label class="grow">
        Data contains (JSON)
        <input
          name="data"
          class="mono"
          value={data}
          placeholder='{"repo": "acme/api"}'
          aria-invalid={invalid}
          aria-describedby="data-error"
          onInput={(e) => setData(e.currentTarget.value)}
        />
      </label>
      <button type="submit" class="primary" disabled={invalid}>
        Filter
      </button>
      {invalid && (
        <p id="data-error" class="error field-error">
          {dataError}
        </p>
      )}
    </form>
  );
}

function describe(f: Filter): string {
  const parts = [f.status && `status ${f.status}`, f.name && `name ${f.name}`, f.data && `data ${JSON.stringify(f.data)}`].filter(Boolean);
  return parts.length ? parts.join(', ') : 'no filter (every job)';
}

const cap = (s: string) => s[0]!.toUpperCase() + s.slice(1);
