import { postgresStoreFactory } from './support/postgres.ts';
import { storeConformance } from './suites/conformance.ts';

storeConformance('postgres', postgresStoreFactory);
