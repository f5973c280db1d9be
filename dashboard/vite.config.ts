import { fileURLToPath } from 'node:url';
import preact from '@preact/preset-vite';
import { defineConfig } from 'vite';

/**
 * The dashboard's build: dashboard/ → dist/dashboard/, where the server looks first (src/server/static.ts).
 * base './' makes every asset URL relative; the server injects <base href="<basePath>/"> so they resolve under
 * any mount prefix. No inline script or style is emitted (the Content-Security-Policy allows 'self' only).
 */
export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: './',
  plugins: [preact()],
  build: {
    outDir: fileURLToPath(new URL('../dist/dashboard/', import.meta.url)),
    emptyOutDir: true,
    // One JS and one CSS file: the bundle is small, and a module preload polyfill would be an inline script.
    modulePreload: false,
    assetsInlineLimit: 0,
    target: 'es2022',
    reportCompressedSize: false,
  },
});
