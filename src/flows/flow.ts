import type { JobOptions } from '../job.ts';

/**
 * What a flow's parent does when one of its children fails for good:
 * - 'fail': the parent fails at once (without running), its error naming the child; the other children go on.
 * - 'ignore': the parent runs once every child is finished; ctx.children() leaves the ignored failures out.
 * - 'continue': the parent runs once every child is finished and sees the failures in ctx.children().
 * A cancelled or deleted child never fails its parent: it is finished, and the flow moves on.
 */
export type ChildFailurePolicy = 'fail' | 'ignore' | 'continue';

/** The policies, for validation and UIs. */
export const CHILD_FAILURE_POLICIES: readonly ChildFailurePolicy[] = ['fail', 'ignore', 'continue'];

/** One child of queue.addFlow(). */
export interface FlowChild<Data = unknown> {
  name: string;
  data?: Data;
  /** Any add() option but uniqueKey and client. */
  options?: JobOptions;
  /** This child's own policy; default the flow's onChildFailure. */
  onFailure?: ChildFailurePolicy;
}

/** What queue.addFlow() takes: a parent job and its children, added in one transaction. */
export interface FlowSpec<Data = unknown> {
  name: string;
  data?: Data;
  /** Any add() option but delay, runAt, uniqueKey and client: the parent runs when its children are done. */
  options?: JobOptions;
  children: FlowChild[];
  /** Default 'fail'. */
  onChildFailure?: ChildFailurePolicy;
}

/** What queue.addFlow() returns: the parent's id and the children's ids in input order. */
export interface AddedFlow {
  id: string;
  childIds: string[];
}

/**
 * The runAt of a parent waiting for its children: the latest instant a JS Date holds (year 275760), which
 * PostgreSQL's timestamptz holds too. The claims take pending jobs with runAt <= now, so they skip a waiting
 * parent without any change of theirs; the statement that finishes its last child sets its runAt to now.
 * A parent is waiting exactly when it is pending with this runAt.
 */
export const FLOW_WAIT_AT = 8_640_000_000_000_000;

/** True for a flow parent still waiting for its children (pending, runAt FLOW_WAIT_AT). */
export function isWaitingParent(job: { status: string; runAt: Date }): boolean {
  return job.status === 'pending' && job.runAt.getTime() === FLOW_WAIT_AT;
}

/** The most children one addFlow() takes (one statement carries them, as addBulk()). */
export const MAX_FLOW_CHILDREN = 100_000;
