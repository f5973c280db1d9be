import { Store } from './store.ts';

/** The API's types as they arrive in JSON (dates are ISO strings). */
export type JobStatus = 'pending' | 'running' | 'completed' | 'failed' | 'cancelled';
export const STATUSES: JobStatus[] = ['pending', 'running', 'completed', 'failed', 'cancelled'];
export type Counts = Record<JobStatus, number>;

export interface AttemptError {
  attempt: number;
  at: string;
  message: string;
  stack: string | null;
  workerId: string | null;
}

export interface Job {
  id: string;
  name: string;
  data: unknown;
  status: JobStatus;
  priority: number;
  attempts: number;
  maxAttempts: number;
  progress: unknown;
  result: unknown;
  error: string | null;
  errorStack: string | null;
  runAt: string;
  createdAt: string;
  startedAt: string | null;
  completedAt: string | null;
  processingBy: string | null;
  uniqueKey: string | null;
  cancelRequested: boolean;
  errors?: AttemptError[];
}

export interface NameInfo {
  name: string;
  counts: Counts;
  lastClaimedAt: string | null;
  /** null until flow control reports them (GET /api/features: flowControl). */
  paused: boolean | null;
  limits: Record<string, unknown> | null;
}

export interface Features {
  version: string;
  store: string;
  readOnly: boolean;
  auth: boolean;
  basePath: string;
  features: { websocket: boolean; countsExact: boolean; throughput: boolean; metrics: boolean; flowControl: boolean; schedules: boolean };
}

export interface Filter {
  status?: JobStatus;
  name?: string;
  data?: Record<string, unknown>;
}

const TOKEN_KEY = 'spool.token';

/** The token the user gave this tab (sessionStorage: gone when the tab closes, never sent anywhere else). */
export function token(): string | null {
  return sessionStorage.getItem(TOKEN_KEY);
}
export function setToken(value: string): void {
  sessionStorage.setItem(TOKEN_KEY, value);
  tokenNeeded.set(false);
}
/** True while the server answers 401: the app shows the token form instead of pages. */
export const tokenNeeded = new Store(false);

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/**
 * Calls the API with a relative URL ('api/jobs'), which the page's <base href> resolves under the server's
 * base path, whatever prefix it is mounted at.
 */
export async function api<T>(path: string, init: { method?: string; body?: unknown } = {}): Promise<T> {
  const headers: Record<string, string> = { Accept: 'application/json' };
  const t = token();
  if (t) headers.Authorization = `Bearer ${t}`;
  if (init.body !== undefined) headers['Content-Type'] = 'application/json';
  const response = await fetch(path, {
    method: init.method ?? 'GET',
    headers,
    ...(init.body !== undefined ? { body: JSON.stringify(init.body) } : {}),
  });
  const body = (await response.json().catch(() => null)) as { error?: { code: string; message: string } } | null;
  if (!response.ok) {
    if (response.status === 401) tokenNeeded.set(true);
    throw new ApiError(response.status, body?.error?.code ?? 'HTTP', body?.error?.message ?? `the server answered ${response.status}`);
  }
  return body as T;
}

/** The query string of a filter (data as URL-encoded JSON). */
export function filterQuery(f: Filter): URLSearchParams {
  const q = new URLSearchParams();
  if (f.status) q.set('status', f.status);
  if (f.name) q.set('name', f.name);
  if (f.data && Object.keys(f.data).length > 0) q.set('data', JSON.stringify(f.data));
  return q;
}

export const features = new Store<Features | null>(null);

export async function loadFeatures(): Promise<void> {
  features.set(await api<Features>('api/features'));
}

/** Writes are offered only when the server takes them. */
export function canWrite(f: Features | null): boolean {
  return f !== null && !f.readOnly;
}
