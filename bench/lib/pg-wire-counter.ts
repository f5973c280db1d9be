// The wire counter lives with the tests, which assert statement counts with it; the benchmark measures with the same one.
export { PgWireCounter } from '../../test/support/pg-wire-counter.ts';
