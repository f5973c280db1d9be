import type Database from 'better-sqlite3';
import type { JobStatus } from '../../job.ts';
import type { NewJob } from '../store.ts';
import * as FLOW from './flow-statements.ts';
import type { Journal } from './journal.ts';

/** The flow statements of one SQLite store, run inside the store's write transactions. */
export class SqliteFlows {
  private readonly insertParent: Database.Statement;
  private readonly insertChildren: Database.Statement;
  private readonly settle: Database.Statement;
  private readonly reopen: Database.Statement;
  readonly selectChildren: Database.Statement;

  constructor(db: Database.Database) {
    this.insertParent = db.prepare(FLOW.INSERT_FLOW_PARENT);
    this.insertChildren = db.prepare(FLOW.INSERT_FLOW_CHILDREN);
    this.settle = db.prepare(FLOW.FLOW_SETTLE).raw(true);
    this.reopen = db.prepare(FLOW.FLOW_REOPEN);
    this.selectChildren = db.prepare(FLOW.SELECT_CHILDREN);
  }

  /** Inserts the parent then its children: two statements whatever the number of children. */
  insert(parent: NewJob, children: NewJob[], now: number, journal: Journal): { id: string; childIds: string[] } {
    const { id } = this.insertParent.get({
      name: parent.name, data: parent.dataJson, priority: parent.priority, maxAttempts: parent.maxAttempts,
      backoff: parent.backoff === null ? null : JSON.stringify(parent.backoff), timeout: parent.timeout,
      traceContext: parent.traceContext ?? null, total: children.length, now,
    }) as { id: number };
    journal.note('added', id);
    journal.move(parent.name, null, 'pending');
    const jobs = JSON.stringify(children.map((c) => ({
      name: c.name, data: c.dataJson, priority: c.priority, runAt: c.runAt, maxAttempts: c.maxAttempts,
      backoff: c.backoff === null ? null : JSON.stringify(c.backoff), timeout: c.timeout, traceContext: c.traceContext ?? null,
      onFailure: c.onFailure ?? 'fail',
    })));
    const rows = this.insertChildren.all({ jobs, now, parent: id }) as { id: number; name: string }[];
    for (const row of rows) {
      journal.note('added', row.id);
      journal.move(row.name, null, 'pending');
    }
    return { id: String(id), childIds: rows.map((r) => String(r.id)) };
  }

  /**
   * Moves on the waiting parents of children that just finished (or were cancelled or deleted): one
   * statement, none when `parents` is empty. Returns the statements run and how many parents became due.
   */
  settleParents(parents: Set<number>, now: number, journal: Journal): { statements: number; ready: number } {
    if (parents.size === 0) return { statements: 0, ready: 0 };
    let ready = 0;
    for (const [id, name, status] of this.settle.all({ parents: JSON.stringify([...parents]), now }) as [number, string, JobStatus, number][]) {
      if (status === 'failed') {
        journal.note('failed', id);
        journal.move(name, 'pending', 'failed');
        journal.ended(name, 'failed');
      } else {
        journal.note('retrying', id);
        ready++;
      }
    }
    return { statements: 1, ready };
  }

  /** After a retry of children: reopens parents that failed because of a child, then recounts them (two statements). */
  reopenParents(parents: Set<number>, now: number, journal: Journal): number {
    if (parents.size === 0) return 0;
    for (const row of this.reopen.all({ parents: JSON.stringify([...parents]) }) as { id: number; name: string }[]) {
      journal.note('retrying', row.id);
      journal.move(row.name, 'failed', 'pending');
    }
    return 1 + this.settleParents(parents, now, journal).statements;
  }
}
