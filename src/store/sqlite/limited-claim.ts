import type Database from 'better-sqlite3';
import { type Candidate, controlState, candidatesFor, keyOf, MAX_KEYS, perKeyDepth, planClaim } from '../../limits/claim-plan.ts';
import { type ControlRow, controlFromRow } from '../../limits/control-row.ts';
import type { NameControl } from '../../limits/limits.ts';
import { parseWindow } from '../../limits/rate-window.ts';
import * as SQL from './control-statements.ts';
import type { ClaimedRow } from './rows.ts';
import { CLAIM_CHOSEN } from './statements.ts';


export type LimitStatements = Record<
  'controls' | 'controlsOf' | 'upsertControl' | 'running' | 'candidates' | 'keyStates' | 'writeNameStates' | 'writeKeyStates' | 'pruneKeyStates' | 'claimChosen',
  Database.Statement
>;

export function prepareLimitStatements(db: Database.Database): LimitStatements {
  return {
    controls: db.prepare(SQL.SELECT_CONTROLS),
    controlsOf: db.prepare(SQL.SELECT_CONTROLS_OF),
    upsertControl: db.prepare(SQL.UPSERT_CONTROL),
    running: db.prepare(SQL.RUNNING_COUNTS),
    candidates: db.prepare(SQL.CLAIM_CANDIDATES),
    keyStates: db.prepare(SQL.SELECT_KEY_STATES),
    writeNameStates: db.prepare(SQL.WRITE_NAME_STATES),
    writeKeyStates: db.prepare(SQL.WRITE_KEY_STATES),
    pruneKeyStates: db.prepare(SQL.PRUNE_KEY_STATES),
    claimChosen: db.prepare(CLAIM_CHOSEN).raw(true),
  };
}

export function controlParams(p: { name: string; paused?: boolean; limits?: Omit<NameControl, 'name' | 'paused'>; now: number }) {
  const l = p.limits;
  return {
    name: p.name,
    paused: p.paused === undefined ? null : p.paused ? 1 : 0,
    setLimits: l ? 1 : 0,
    concurrency: l?.concurrency ?? null,
    perKeyConcurrency: l?.perKeyConcurrency ?? null,
    rateMax: l?.rate?.max ?? null,
    rateIntervalMs: l?.rate?.intervalMs ?? null,
    perKeyRateMax: l?.perKeyRate?.max ?? null,
    perKeyRateIntervalMs: l?.perKeyRate?.intervalMs ?? null,
    now: p.now,
  };
}

/**
 * The limit-aware claim, inside the caller's write transaction (SQLite serialises writers, so nothing else
 * claims between the reads and the writes): reads the names' control rows, what they run per name and key
 * and their due jobs in round-robin order, plans (src/limits/claim-plan.ts), claims the chosen jobs (and
 * lease-expired ones of these names) and writes the rate state back. 4 statements, 5-7 with rate limits.
 */
export function claimLimited(
  s: LimitStatements,
  names: string[],
  limit: number,
  claim: { workerId: string; now: number; leaseUntil: number },
): { rows: ClaimedRow[]; statements: number; retryAt: number | null } {
  const namesJson = JSON.stringify(names);
  const controls = (s.controlsOf.all({ names: namesJson }) as ControlRow[]).map((r) => controlState(controlFromRow(r), r.rate_state ?? null));
  let statements = 1;
  const byName = new Map(controls.map((c) => [c.name, c]));
  const active = names.filter((n) => byName.has(n) && !byName.get(n)!.paused);
  if (active.length === 0) return { rows: [], statements, retryAt: null };
  const activeJson = JSON.stringify(active);
  const caps = JSON.stringify(controls.filter((c) => c.perKeyConcurrency !== null).map((c) => [c.name, c.perKeyConcurrency]));
  const runningByName = new Map<string, number>();
  const runningByKey = new Map<string, number>();
  for (const r of s.running.all({ names: activeJson }) as { name: string; key: string | null; n: number }[]) {
    runningByName.set(r.name, (runningByName.get(r.name) ?? 0) + r.n);
    if (r.key !== null) runningByKey.set(keyOf(r.name, r.key), r.n);
  }
  const cap = candidatesFor(controls, active.length, limit);
  const candidates = (s.candidates.all({ names: activeJson, caps, now: claim.now, cap, perKey: perKeyDepth(controls, limit), maxKeys: MAX_KEYS, perName: limit }) as { id: number; name: string; key: string | null }[]).map(
    (c): Candidate => ({ id: String(c.id), name: c.name, key: c.key }),
  );
  statements += 2;
  const keyStates = new Map<string, ReturnType<typeof parseWindow>>();
  const keyRated = controls.filter((c) => c.perKeyRate !== null).map((c) => c.name);
  if (keyRated.length > 0) {
    for (const r of s.keyStates.all({ names: JSON.stringify(keyRated) }) as { name: string; key: string; rate_state: string }[]) {
      keyStates.set(keyOf(r.name, r.key), parseWindow(r.rate_state, byName.get(r.name)?.perKeyRate ?? null));
    }
    statements++;
  }
  const plan = planClaim({ controls: byName, runningByName, runningByKey, keyStates, candidates, limit, now: claim.now });
  const rows = s.claimChosen.all({ ...claim, names: activeJson, ids: JSON.stringify(plan.ids.map(Number)), limit }) as ClaimedRow[];
  statements++;
  if (plan.nameStates.size > 0) {
    s.writeNameStates.run({ states: JSON.stringify([...plan.nameStates]) });
    statements++;
  }
  if (plan.keyStates.length > 0) {
    s.writeKeyStates.run({ states: JSON.stringify(plan.keyStates), now: claim.now });
    // States idle for longer than their interval count nothing any more.
    const longest = Math.max(...controls.filter((c) => c.perKeyRate !== null).map((c) => c.perKeyRate!.intervalMs));
    s.pruneKeyStates.run({ names: JSON.stringify(keyRated), before: claim.now - 2 * longest });
    statements += 2;
  }
  return { rows, statements, retryAt: plan.retryAt };
}
