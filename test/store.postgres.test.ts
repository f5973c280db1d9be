import { before } from 'node:test';
import { postgresStoreFactory, requirePostgres } from './support/postgres.ts';
import { storeConformance } from './suites/conformance.ts';

before(requirePostgres);
storeConformance('postgres', postgresStoreFactory);
