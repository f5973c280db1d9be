import { type Candidate, controlState, type ControlState, candidatesFor, keyOf, MAX_KEYS, perKeyDepth, planClaim } from '../../limits/claim-plan.ts';
import { type ControlRow, controlFromRow } from '../../limits/control-row.ts';
import type { NameControl } from '../../limits/limits.ts';
import { parseWindow, type WindowState } from '../../limits/rate-window.ts';
import type { ControlStatements } from './control-statements.ts';
import type { Statement } from './statements.ts';


/** The upsert's parameters. */
export function controlValues(p: { name: string; paused?: boolean; limits?: Omit<NameControl, 'name' | 'paused'>; now: number }): unknown[] {
  const l = p.limits;
  return [
    p.name, p.paused ?? null, l !== undefined,
    l?.concurrency ?? null, l?.perKeyConcurrency ?? null, l?.rate?.max ?? null, l?.rate?.intervalMs ?? null,
    l?.perKeyRate?.max ?? null, l?.perKeyRate?.intervalMs ?? null, p.now,
  ];
}

/** Runs one statement on the claim's connection (inside its transaction), counted. */
export type Exec = <R>(statement: Statement, values: unknown[]) => Promise<R[]>;

/**
 * The limit-aware claim's planning, inside the caller's transaction: locks the names' control rows FOR
 * UPDATE (concurrent claims of these names queue up here, so two never plan on the same counts), reads what
 * runs and what is due in one statement (its snapshot is taken after the lock is granted, so it sees every
 * claim committed before), plans, and returns the ids to claim; `writeBack` then stores the rate state.
 * Three statements (four with rate limits) besides BEGIN, the claim and COMMIT.
 */
export async function planLimited(
  exec: Exec,
  sql: ControlStatements,
  names: string[],
  limit: number,
  now: number,
): Promise<{ ids: string[]; active: string[]; retryAt: number | null; writeBack: (() => Promise<void>) | null }> {
  const rows = await exec<ControlRow>(sql.lock, [names]);
  const controls = new Map<string, ControlState>(rows.map((r) => [r.name, controlState(controlFromRow(r), r.rate_state ?? null)]));
  const active = names.filter((n) => controls.has(n) && !controls.get(n)!.paused);
  if (active.length === 0) return { ids: [], active, retryAt: null, writeBack: null };
  const caps = JSON.stringify([...controls.values()].filter((c) => c.perKeyConcurrency !== null).map((c) => [c.name, c.perKeyConcurrency]));
  const keyRated = [...controls.values()].filter((c) => c.perKeyRate !== null).map((c) => c.name);
  const cap = candidatesFor([...controls.values()], active.length, limit);
  const read = await exec<{ kind: 'r' | 'c' | 'k'; id: string | null; name: string; key: string | null; n: string | null; state: string | null }>(
    sql.read, [active, now, caps, cap, keyRated, perKeyDepth([...controls.values()], limit), MAX_KEYS, limit],
  );
  const runningByName = new Map<string, number>();
  const runningByKey = new Map<string, number>();
  const keyStates = new Map<string, WindowState>();
  const candidates: Candidate[] = [];
  for (const r of read) {
    if (r.kind === 'r') {
      const n = Number(r.n);
      runningByName.set(r.name, (runningByName.get(r.name) ?? 0) + n);
      if (r.key !== null) runningByKey.set(keyOf(r.name, r.key), n);
    } else if (r.kind === 'c') candidates.push({ id: r.id!, name: r.name, key: r.key });
    else keyStates.set(keyOf(r.name, r.key!), parseWindow(r.state, controls.get(r.name)?.perKeyRate ?? null));
  }
  const plan = planClaim({ controls, runningByName, runningByKey, keyStates, candidates, limit, now });
  const writeBack =
    plan.nameStates.size === 0 && plan.keyStates.length === 0
      ? null
      : async () => {
          const longest = Math.max(0, ...[...controls.values()].map((c) => c.perKeyRate?.intervalMs ?? 0));
          await exec(sql.writeStates, [
            JSON.stringify([...plan.nameStates]),
            JSON.stringify(plan.keyStates),
            now,
            keyRated,
            now - 2 * longest,
          ]);
        };
  return { ids: plan.ids, active, retryAt: plan.retryAt, writeBack };
}
