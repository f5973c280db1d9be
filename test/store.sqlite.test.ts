import { sqliteStoreFactory } from './support/sqlite.ts';
import { storeConformance } from './suites/conformance.ts';

storeConformance('sqlite', sqliteStoreFactory);
