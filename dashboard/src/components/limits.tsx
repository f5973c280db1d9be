import { useEffect, useRef, useState } from 'preact/hooks';
import { api } from '../api.ts';
import { json } from '../format.ts';

/**
 * Edits a name's limits (PUT /api/names/:name/limits) as JSON, e.g. { "concurrency": 2 }: checked as you type,
 * and the server says what to fix if a field is wrong.
 */
export function LimitsDialog({ name, limits, onClose }: { name: string; limits: unknown; onClose: (saved: boolean) => void }) {
  const ref = useRef<HTMLDialogElement>(null);
  const [text, setText] = useState(limits ? json(limits) : '{\n  "concurrency": 2\n}');
  const [error, setError] = useState('');
  useEffect(() => ref.current?.showModal(), []);
  let problem = '';
  try {
    const v: unknown = JSON.parse(text);
    if (!v || typeof v !== 'object' || Array.isArray(v)) problem = 'must be a JSON object, e.g. { "concurrency": 2 }';
  } catch (e) {
    problem = `not valid JSON: ${(e as Error).message}`;
  }
  const save = async () => {
    try {
      await api(`api/names/${encodeURIComponent(name)}/limits`, { method: 'PUT', body: JSON.parse(text) as unknown });
      ref.current?.close();
      onClose(true);
    } catch (e) {
      setError((e as Error).message);
    }
  };
  return (
    <dialog ref={ref} class="confirm" aria-labelledby="limits-title" onCancel={(e) => (e.preventDefault(), ref.current?.close(), onClose(false))}>
      <h2 id="limits-title">Limits of {name}</h2>
      <label>
        Limits (JSON: concurrency, rate, perKeyConcurrency, perKeyRate)
        <textarea class="mono" rows={6} value={text} aria-invalid={problem !== ''} onInput={(e) => setText(e.currentTarget.value)} />
      </label>
      {(problem || error) && <p class="error">{problem || error}</p>}
      <div class="actions">
        <button type="button" autofocus onClick={() => (ref.current?.close(), onClose(false))}>
          Cancel
        </button>
        <button type="button" class="primary" disabled={problem !== ''} onClick={save}>
          Save limits
        </button>
      </div>
    </dialog>
  );
}
