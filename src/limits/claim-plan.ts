import type { NameControl } from './limits.ts';
import { allowance, nextAllowed, parseWindow, record, serializeWindow, type WindowState } from './rate-window.ts';

/**
 * The policy of a limit-aware claim, free of SQL: given what the store read inside its claim transaction
 * (the names' control rows, the jobs running per name and key, eligible pending jobs in round-robin order),
 * which jobs to take and the rate state to write back. The store runs it between its statements, with the
 * names' control rows locked (PostgreSQL) or under the write lock (SQLite), so no two claims plan at once.
 */

/** A pending job the claim may take, in the order to consider them (round-robin across keys). */
export interface Candidate {
  id: string;
  name: string;
  key: string | null;
}

/** A name's control row with its rate state. */
export interface ControlState extends NameControl {
  rateState: WindowState;
}

export interface PlanInput {
  controls: Map<string, ControlState>;
  /** Jobs running (or held by a worker) per name. */
  runningByName: Map<string, number>;
  /** Jobs running per `${name}\u0000${key}`. */
  runningByKey: Map<string, number>;
  /** Per-key rate state per `${name}\u0000${key}`, for the candidates' keys that have one. */
  keyStates: Map<string, WindowState>;
  candidates: Candidate[];
  limit: number;
  now: number;
}

export interface Plan {
  ids: string[];
  /** New rate state per name (names whose rate took starts), as stored. */
  nameStates: Map<string, string>;
  /** New per-key rate state as stored: [name, key, state]. */
  keyStates: [string, string, string][];
  /** The earliest time a rate limit allows a start again, when one held jobs back; else null. */
  retryAt: number | null;
}

/** Keys with pending jobs one claim considers per name, in key order (a loose index scan: one seek each). */
export const MAX_KEYS = 1_000;

/**
 * Jobs read per key: no key can take more than its per-key limit (or per-key rate) allows, nor the claim more
 * than its limit.
 */
export function perKeyDepth(controls: NameControl[], limit: number): number {
  let depth = 1;
  for (const c of controls) depth = Math.max(depth, Math.min(limit, c.perKeyConcurrency ?? c.perKeyRate?.max ?? limit));
  return Math.max(1, Math.min(depth, limit));
}

/**
 * Candidates a claim reads: enough for every slot even when a name at its limit turns its own away (limit per
 * name), four times that when per-key rates may turn more away. Reading 4 × limit always cost W3L a read and a
 * sort of 1,600 rows per claim of 400.
 */
export function candidatesFor(controls: NameControl[], names: number, limit: number): number {
  const keyRated = controls.some((c) => c.perKeyRate !== null);
  return Math.max(1, limit * Math.max(1, names) * (keyRated ? 4 : 1));
}

export const keyOf = (name: string, key: string) => `${name}\u0000${key}`;

/** Takes candidates in order while every limit of their name and key allows it. */
export function planClaim(input: PlanInput): Plan {
  const { controls, now } = input;
  const running = new Map(input.runningByName);
  const runningKey = new Map(input.runningByKey);
  const nameAllow = new Map<string, number>();
  const keyAllow = new Map<string, number>();
  const nameTaken = new Map<string, number>();
  const keyTaken = new Map<string, [string, string, number]>();
  const ids: string[] = [];
  let retryAt: number | null = null;
  const later = (t: number) => (retryAt = retryAt === null ? t : Math.min(retryAt, t));

  for (const c of input.candidates) {
    if (ids.length >= input.limit) break;
    const ctl = controls.get(c.name);
    if (!ctl || ctl.paused) continue;
    if (ctl.concurrency !== null && (running.get(c.name) ?? 0) >= ctl.concurrency) continue;
    if (ctl.rate !== null) {
      if (!nameAllow.has(c.name)) nameAllow.set(c.name, allowance(ctl.rateState, ctl.rate, now));
      if (nameAllow.get(c.name)! <= 0) {
        later(nextAllowed(record(ctl.rateState, ctl.rate, now, nameTaken.get(c.name) ?? 0), ctl.rate, now));
        continue;
      }
    }
    const k = c.key === null ? null : keyOf(c.name, c.key);
    if (k !== null && c.key !== null) {
      if (ctl.perKeyConcurrency !== null && (runningKey.get(k) ?? 0) >= ctl.perKeyConcurrency) continue;
      if (ctl.perKeyRate !== null) {
        const state = input.keyStates.get(k) ?? [];
        if (!keyAllow.has(k)) keyAllow.set(k, allowance(state, ctl.perKeyRate, now));
        if (keyAllow.get(k)! <= 0) {
          later(nextAllowed(record(state, ctl.perKeyRate, now, keyTaken.get(k)?.[2] ?? 0), ctl.perKeyRate, now));
          continue;
        }
        keyAllow.set(k, keyAllow.get(k)! - 1);
        const taken = keyTaken.get(k);
        keyTaken.set(k, [c.name, c.key, (taken?.[2] ?? 0) + 1]);
      }
      runningKey.set(k, (runningKey.get(k) ?? 0) + 1);
    }
    if (ctl.rate !== null) nameAllow.set(c.name, nameAllow.get(c.name)! - 1);
    running.set(c.name, (running.get(c.name) ?? 0) + 1);
    nameTaken.set(c.name, (nameTaken.get(c.name) ?? 0) + 1);
    ids.push(c.id);
  }

  const nameStates = new Map<string, string>();
  for (const [name, n] of nameTaken) {
    const ctl = controls.get(name)!;
    if (ctl.rate !== null) nameStates.set(name, serializeWindow(record(ctl.rateState, ctl.rate, now, n), ctl.rate));
  }
  const keyStates: Plan['keyStates'] = [];
  for (const [k, [name, key, n]] of keyTaken) {
    const rate = controls.get(name)!.perKeyRate!;
    keyStates.push([name, key, serializeWindow(record(input.keyStates.get(k) ?? [], rate, now, n), rate)]);
  }
  return { ids, nameStates, keyStates, retryAt };
}

/** A stored control row's rate state. */
export function controlState(control: NameControl, rateState: string | null): ControlState {
  return { ...control, rateState: parseWindow(rateState, control.rate) };
}
