import { useState } from 'preact/hooks';
import { api, canWrite, features } from '../api.ts';
import { useConfirm } from '../components/confirm.tsx';
import { json, when } from '../format.ts';
import { useStore } from '../store.ts';
import { useResource } from '../use-resource.ts';

interface Schedule {
  key: string;
  cron?: string;
  every?: number | string;
  tz?: string;
  name: string;
  data?: unknown;
  nextRunAt?: string | null;
  lastRunAt?: string | null;
  paused?: boolean;
}

/** Schedules (when the server has them): when each runs next, and trigger / pause / resume / remove. */
export function Schedules() {
  const f = useStore(features);
  const list = useResource(() => api<{ schedules: Schedule[] }>('api/schedules'), []);
  const [message, setMessage] = useState('');
  const [confirmElement, confirm] = useConfirm();
  const writable = canWrite(f);
  const act = async (s: Schedule, action: 'trigger' | 'pause' | 'resume' | 'delete') => {
    if (action === 'delete' && !(await confirm(`Remove schedule ${s.key}?`, <p>No more {s.name} jobs will be added by it.</p>, 'Remove'))) return;
    try {
      await api(`api/schedules/${encodeURIComponent(s.key)}${action === 'delete' ? '' : `/${action}`}`, { method: action === 'delete' ? 'DELETE' : 'POST' });
      setMessage(`${s.key}: ${action === 'delete' ? 'removed' : `${action}d`}`);
      list.reload();
    } catch (e) {
      setMessage((e as Error).message);
    }
  };
  return (
    <section>
      <h1>Schedules</h1>
      {list.error && <p class="error">{list.error.message}</p>}
      {message && (
        <p class="notice" role="status">
          {message}
        </p>
      )}
      <div class="table-wrap">
        <table>
          <thead>
            <tr>
              <th scope="col">key</th>
              <th scope="col">job</th>
              <th scope="col">when</th>
              <th scope="col">next run</th>
              <th scope="col">last run</th>
              <th scope="col">data</th>
              {writable && <th scope="col">actions</th>}
            </tr>
          </thead>
          <tbody>
            {(list.data?.schedules ?? []).map((s) => (
              <tr key={s.key}>
                <th scope="row" class="mono">
                  {s.key} {s.paused && <span class="badge badge-paused">paused</span>}
                </th>
                <td>
                  <a href={`jobs?name=${encodeURIComponent(s.name)}`}>{s.name}</a>
                </td>
                <td class="mono">
                  {s.cron ?? (s.every !== undefined ? `every ${String(s.every)}` : '—')}
                  {s.tz ? ` (${s.tz})` : ''}
                </td>
                <td>{when(s.nextRunAt)}</td>
                <td>{when(s.lastRunAt)}</td>
                <td class="mono data-cell">{json(s.data, 0)}</td>
                {writable && (
                  <td class="nowrap">
                    <button type="button" class="small" onClick={() => act(s, 'trigger')}>
                      Run now
                    </button>{' '}
                    <button type="button" class="small" onClick={() => act(s, s.paused ? 'resume' : 'pause')}>
                      {s.paused ? 'Resume' : 'Pause'}
                    </button>{' '}
                    <button type="button" class="small danger" onClick={() => act(s, 'delete')}>
                      Remove
                    </button>
                  </td>
                )}
              </tr>
            ))}
            {list.data && list.data.schedules.length === 0 && (
              <tr>
                <td colSpan={7} class="muted">
                  No schedules.
                </td>
              </tr>
            )}
          </tbody>
        </table>
      </div>
      {confirmElement}
    </section>
  );
}
