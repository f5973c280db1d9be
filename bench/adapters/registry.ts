import type { Adapter } from './adapter.ts';
import { bullmq } from './bullmq.ts';
import { bullmqPostgres } from './bullmq-postgres.ts';
import { floorPostgres } from './floor-postgres.ts';
import { floorSqlite } from './floor-sqlite.ts';
import { graphileWorker } from './graphile-worker.ts';
import { pgBoss } from './pg-boss.ts';
import { spoolPostgres } from './spool-postgres.ts';
import { spoolSqlite } from './spool-sqlite.ts';

/** Every system `npm run bench` measures, in report order. */
export const ADAPTERS: readonly Adapter[] = [spoolSqlite, spoolPostgres, bullmq, bullmqPostgres, pgBoss, graphileWorker, floorSqlite, floorPostgres];
