import assert from 'node:assert/strict';
import { test } from 'node:test';
import { openQueue, StoreError } from '../src/index.ts';
import { redactUrl } from '../src/store/postgres/redact-url.ts';

test('redactUrl hides a password holding @ and secret query parameters, and keeps the rest', () => {
  assert.equal(redactUrl('postgres://app:p@ss@db:5432/jobs?password=secret&sslmode=require'), 'postgres://app:***@db:5432/jobs?password=***&sslmode=require');
  assert.equal(redactUrl('postgresql://u:a%40b@h/d?sslpassword=z'), 'postgresql://u:***@h/d?sslpassword=***');
  assert.equal(redactUrl('postgres://app@db/jobs'), 'postgres://app@db/jobs');
  assert.doesNotMatch(redactUrl('postgres://app:pw@[::1/db'), /pw/, 'a URL that does not parse is not shown');
});

test('a PostgreSQL URL that cannot connect: the StoreError names the host, never the password', async () => {
  // Port 1 on localhost refuses at once.
  const url = 'postgres://app:p@ss@127.0.0.1:1/jobs?password=secret';
  await assert.rejects(openQueue({ url }), (e: unknown) => {
    assert.ok(e instanceof StoreError, String(e));
    assert.match(e.message, /127\.0\.0\.1:1/);
    for (const secret of ['p@ss', 'ss@', 'secret']) assert.ok(!e.message.includes(secret), `message shows ${secret}: ${e.message}`);
    return true;
  });
});
