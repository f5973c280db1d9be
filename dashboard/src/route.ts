import { useEffect, useState } from 'preact/hooks';
import { config } from './config.ts';

/** Where the app is: the path below the base path, and the query (filters live there, so links are shareable). */
export interface Route {
  path: string;
  query: URLSearchParams;
}

function current(): Route {
  const base = config.basePath;
  let path = location.pathname;
  if (base && (path === base || path.startsWith(`${base}/`))) path = path.slice(base.length);
  return { path: path || '/', query: new URLSearchParams(location.search) };
}

const listeners = new Set<() => void>();
addEventListener('popstate', () => listeners.forEach((l) => l()));

/** Goes to a path relative to the base ('jobs?status=failed'), without reloading. */
export function navigate(href: string, replace = false): void {
  const url = new URL(href, document.baseURI);
  if (replace) history.replaceState(null, '', url);
  else history.pushState(null, '', url);
  listeners.forEach((l) => l());
  if (!replace) scrollTo(0, 0);
}

export function useRoute(): Route {
  const [route, setRoute] = useState(current);
  useEffect(() => {
    const l = () => setRoute(current());
    listeners.add(l);
    return () => listeners.delete(l);
  }, []);
  return route;
}

/** Same-origin links under the base become in-app navigations (plain clicks only: new tabs still work). */
export function interceptLinks(): void {
  document.addEventListener('click', (e) => {
    if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
    const a = (e.target as Element | null)?.closest?.('a');
    if (!a || a.target || a.hasAttribute('download')) return;
    const url = new URL(a.href, document.baseURI);
    const base = new URL(document.baseURI);
    if (url.origin !== base.origin || !url.pathname.startsWith(base.pathname.replace(/\/$/, ''))) return;
    e.preventDefault();
    navigate(url.href);
  });
}
