/** A parent's progress, derived from its children: how many are finished of how many. */
export interface FlowProgress {
  done: number;
  total: number;
}

/**
 * The progress a flow's parent shows while it has none of its own: `{ done, total }` children finished,
 * from the counters the statements that finish children keep (no read of the children). Null for other jobs.
 */
export function flowProgress(total: number | null | undefined, left: number | null | undefined): FlowProgress | null {
  if (total === null || total === undefined) return null;
  return { done: Math.max(0, total - (left ?? 0)), total };
}
