import { useEffect, useRef } from 'preact/hooks';
import type { Counts, Job } from './api.ts';
import { token } from './api.ts';

/** Messages of the server's hub (src/server/hub.ts). */
export type LiveMessage =
  | { type: 'hello' | 'subscribed' | 'unsubscribed' }
  | { type: 'resync'; reason?: string }
  | { type: 'counts'; counts: Counts; byName: Record<string, Counts> }
  | { type: 'added' | 'started' | 'progress' | 'retrying' | 'completed' | 'failed' | 'cancelled' | 'updated'; job: Job }
  | { type: 'deleted'; job: { id: string; name: string | null } };

export interface Subscription {
  names?: string[];
  ids?: string[];
  counts?: boolean;
}

/** The one WebSocket of the tab: the page's subscription, reconnects with backoff, closed while the tab is hidden. */
class Live {
  private socket: WebSocket | undefined;
  private subscription: Subscription | null = null;
  private readonly listeners = new Set<(m: LiveMessage) => void>();
  private retryMs = 1_000;
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  /** A connection was open before: the next one is a reconnection. */
  private opened = false;
  /** True while connected; the header shows it. */
  connected = false;
  private readonly onStatus = new Set<(connected: boolean) => void>();

  constructor() {
    // A hidden tab costs the server nothing: the socket closes, and on return the page re-reads what it shows.
    document.addEventListener('visibilitychange', () => {
      if (document.hidden) this.disconnect();
      else this.connect();
    });
  }

  subscribe(sub: Subscription | null): void {
    this.subscription = sub;
    if (this.socket?.readyState === WebSocket.OPEN) this.sendSubscription();
    else this.connect();
  }

  listen(fn: (m: LiveMessage) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  watchStatus(fn: (connected: boolean) => void): () => void {
    this.onStatus.add(fn);
    return () => this.onStatus.delete(fn);
  }

  /** Reconnects now (after a token was given). */
  reconnect(): void {
    this.disconnect();
    this.connect();
  }

  private connect(): void {
    if (this.socket || document.hidden || this.subscription === null) return;
    clearTimeout(this.retryTimer);
    const url = new URL('api/events', document.baseURI);
    url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
    const t = token();
    // A browser cannot set Authorization on a WebSocket: the token rides in a subprotocol (src/server/guard.ts).
    const protocols = t ? ['spool', `spool.bearer.${base64url(t)}`] : ['spool'];
    const socket = new WebSocket(url, protocols);
    this.socket = socket;
    socket.onopen = () => {
      this.retryMs = 1_000;
      this.setConnected(true);
      this.sendSubscription();
      // Whatever happened while disconnected (or hidden) is unknown: pages re-read. Not on the first connection:
      // the pages have just read (counts come with the subscription; the job page re-reads on 'subscribed').
      if (this.opened) this.emit({ type: 'resync', reason: 'reconnected' });
      this.opened = true;
    };
    socket.onmessage = (e) => {
      try {
        this.emit(JSON.parse(String(e.data)) as LiveMessage);
      } catch {
        // not ours
      }
    };
    socket.onclose = () => {
      if (this.socket !== socket) return;
      this.socket = undefined;
      this.setConnected(false);
      if (document.hidden) return;
      this.retryTimer = setTimeout(() => this.connect(), this.retryMs);
      this.retryMs = Math.min(this.retryMs * 2, 30_000);
    };
  }

  private disconnect(): void {
    clearTimeout(this.retryTimer);
    const socket = this.socket;
    this.socket = undefined;
    this.setConnected(false);
    socket?.close();
  }

  private sendSubscription(): void {
    if (this.subscription) this.socket?.send(JSON.stringify({ subscribe: this.subscription }));
  }

  private emit(m: LiveMessage): void {
    for (const l of [...this.listeners]) l(m);
  }

  private setConnected(value: boolean): void {
    if (this.connected === value) return;
    this.connected = value;
    for (const l of [...this.onStatus]) l(value);
  }
}

function base64url(s: string): string {
  const bytes = new TextEncoder().encode(s);
  let bin = '';
  for (const b of bytes) bin += String.fromCharCode(b);
  return btoa(bin).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

export const live = new Live();

/**
 * The page's live feed: sets its subscription (by key, so a re-render does not resubscribe) and hands it the
 * messages. Pages re-read the API when told, throttled (useThrottled), never on a timer.
 */
export function useLive(sub: Subscription, onMessage: (m: LiveMessage) => void): void {
  const handler = useRef(onMessage);
  handler.current = onMessage;
  const key = JSON.stringify(sub);
  useEffect(() => {
    live.subscribe(sub);
    return live.listen((m) => handler.current(m));
  }, [key]);
}

/** A function that runs `fn` at most once per `ms` (leading call at once, the last of the rest at the window's end). */
export function useThrottled(fn: () => void, ms: number): () => void {
  const state = useRef({ last: 0, timer: undefined as ReturnType<typeof setTimeout> | undefined, fn });
  state.current.fn = fn;
  useEffect(() => () => clearTimeout(state.current.timer), []);
  return useRef(() => {
    const s = state.current;
    if (s.timer) return;
    const wait = Math.max(0, s.last + ms - Date.now());
    s.timer = setTimeout(() => {
      s.timer = undefined;
      s.last = Date.now();
      s.fn();
    }, wait);
  }).current;
}
