import { useState } from 'preact/hooks';
import { api, type NameInfo } from '../api.ts';
import { navigate } from '../route.ts';
import { type JsonSchema, schemaProblem, skeleton } from '../schema-check.ts';
import { useResource } from '../use-resource.ts';

interface JobType {
  name: string;
  jsonSchema: JsonSchema | null;
}

/** What is wrong with the data text, or null when it is JSON. */
function dataProblem(text: string): string | null {
  if (!text.trim()) return null;
  try {
    JSON.parse(text);
    return null;
  } catch (e) {
    return `not valid JSON: ${(e as Error).message}`;
  }
}

/** What the typed job's schema says of the data (the text is valid JSON here), or null. */
function typedProblem(schema: JsonSchema, text: string): string | null {
  const problem = schemaProblem(schema, JSON.parse(text) as unknown);
  return problem ? `not what the job's schema asks: ${problem}` : null;
}

/** Adds a job: name, JSON data checked as you type (the server checks again), and the common options. */
export function Enqueue() {
  const names = useResource(() => api<{ names: NameInfo[] }>('api/names'), []);
  const [name, setName] = useState('');
  const [data, setData] = useState('{\n  \n}');
  const [priority, setPriority] = useState('');
  const [delay, setDelay] = useState('');
  const [maxAttempts, setMaxAttempts] = useState('');
  const [error, setError] = useState('');
  const jobTypes = useResource(() => api<{ jobTypes: JobType[] }>('api/job-types').catch(() => ({ jobTypes: [] })), []);
  const schema = jobTypes.data?.jobTypes.find((t) => t.name === name.trim())?.jsonSchema ?? null;
  const problem = dataProblem(data) ?? (schema && data.trim() ? typedProblem(schema, data) : null);

  const submit = async (e: Event) => {
    e.preventDefault();
    if (problem || !name.trim()) return;
    setError('');
    const options: Record<string, number> = {};
    if (priority !== '') options.priority = Number(priority);
    if (delay !== '') options.delay = Number(delay) * 1000;
    if (maxAttempts !== '') options.maxAttempts = Number(maxAttempts);
    try {
      const { id } = await api<{ id: string }>('api/jobs', {
        method: 'POST',
        body: { name: name.trim(), ...(data.trim() ? { data: JSON.parse(data) as unknown } : {}), ...(Object.keys(options).length ? { options } : {}) },
      });
      navigate(`jobs/${encodeURIComponent(id)}`);
    } catch (err) {
      setError((err as Error).message);
    }
  };

  return (
    <section>
      <h1>Add a job</h1>
      <form class="stack-form" onSubmit={submit}>
        <label>
          Name
          <input name="name" list="enqueue-names" required value={name} onInput={(e) => setName(e.currentTarget.value)} placeholder="deep-scan" />
          <datalist id="enqueue-names">
            {(names.data?.names ?? []).map((n) => (
              <option value={n.name} key={n.name} />
            ))}
          </datalist>
        </label>
        <label>
          Data (JSON)
          <textarea name="data" class="mono" rows={8} value={data} aria-invalid={problem !== null} aria-describedby="enqueue-data-error" onInput={(e) => setData(e.currentTarget.value)} />
        </label>
        {schema && (
          <details class="schema">
            <summary>
              Typed job: its data follows this schema{' '}
              <button type="button" onClick={() => setData(JSON.stringify(skeleton(schema), null, 2))}>
                Fill from schema
              </button>
            </summary>
            <pre class="mono">{JSON.stringify(schema, null, 2)}</pre>
          </details>
        )}
        {problem && (
          <p id="enqueue-data-error" class="error field-error">
            Data is {problem}
          </p>
        )}
        <div class="row">
          <label>
            Priority
            <input name="priority" type="number" step="1" value={priority} onInput={(e) => setPriority(e.currentTarget.value)} placeholder="0" />
          </label>
          <label>
            Delay (s)
            <input name="delay" type="number" min="0" step="1" value={delay} onInput={(e) => setDelay(e.currentTarget.value)} placeholder="0" />
          </label>
          <label>
            Max attempts
            <input name="maxAttempts" type="number" min="1" step="1" value={maxAttempts} onInput={(e) => setMaxAttempts(e.currentTarget.value)} placeholder="default" />
          </label>
        </div>
        {error && (
          <p class="error" role="alert">
            {error}
          </p>
        )}
        <div class="actions">
          <button type="submit" class="primary" disabled={problem !== null || !name.trim()}>
            Add job
          </button>
        </div>
      </form>
    </section>
  );
}
