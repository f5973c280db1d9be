import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createAdaptorServer } from '@hono/node-server';
import express from 'express';
import Fastify from 'fastify';
import { Hono } from 'hono';
import { fastifySpool } from '../src/server/index.ts';
import { type Mounted, mountContract } from './suites/mount-contract.ts';

async function listening(server: Server): Promise<Mounted> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    server,
    origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

mountContract('node:http', async (spool) => {
  const server = createServer((req, res) => {
    if (req.url === '/hello') return void res.end('host app');
    spool.handle(req, res);
  });
  spool.attach(server);
  return listening(server);
});

mountContract('express', async (spool, prefix) => {
  const app = express();
  app.get('/hello', (_req, res) => void res.send('host app'));
  // Mounted before any body parser of the host app: Spool reads the request body itself.
  app.use(prefix || '/', spool.handle);
  const server = createServer(app);
  spool.attach(server);
  return listening(server);
});

mountContract('fastify', async (spool, prefix) => {
  const app = Fastify();
  app.get('/hello', async () => 'host app');
  fastifySpool(app, spool, prefix);
  await app.listen({ port: 0, host: '127.0.0.1' });
  return {
    server: app.server,
    origin: `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`,
    close: async () => {
      app.server.closeAllConnections();
      await app.close();
    },
  };
});

mountContract('hono', async (spool, prefix) => {
  const app = new Hono();
  app.get('/hello', (c) => c.text('host app'));
  app.mount(prefix || '/', spool.fetch);
  const server = createAdaptorServer({ fetch: app.fetch, overrideGlobalObjects: false }) as Server;
  spool.attach(server);
  return listening(server);
});
