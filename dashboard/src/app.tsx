import { useEffect, useState } from 'preact/hooks';
import { features, loadFeatures, tokenNeeded } from './api.ts';
import { TokenPrompt } from './components/token.tsx';
import { live } from './live.ts';
import { Enqueue } from './pages/enqueue.tsx';
import { JobPage } from './pages/job.tsx';
import { Jobs } from './pages/jobs.tsx';
import { Overview } from './pages/overview.tsx';
import { Schedules } from './pages/schedules.tsx';
import { useRoute } from './route.ts';
import { useStore } from './store.ts';
import { applyTheme, currentTheme, type Theme } from './theme.ts';

export function App() {
  const route = useRoute();
  const f = useStore(features);
  const needToken = useStore(tokenNeeded);
  const [generation, setGeneration] = useState(0);
  const [theme, setTheme] = useState<Theme>(currentTheme);
  const [connected, setConnected] = useState(live.connected);
  useEffect(() => live.watchStatus(setConnected), []);
  useEffect(() => {
    loadFeatures().catch(() => {});
  }, [generation]);

  const toggleTheme = () => {
    const next = theme === 'dark' ? 'light' : 'dark';
    applyTheme(next, true);
    setTheme(next);
  };

  const path = route.path;
  let page;
  if (needToken) {
    page = (
      <TokenPrompt
        onDone={() => {
          setGeneration((g) => g + 1);
          live.reconnect();
        }}
      />
    );
  } else if (path === '/' || path === '') page = <Overview />;
  else if (path === '/jobs' || path === '/jobs/') page = <Jobs route={route} />;
  else if (path.startsWith('/jobs/')) page = <JobPage id={decodeURIComponent(path.slice('/jobs/'.length))} />;
  else if (path === '/failed') page = <Jobs route={route} locked="failed" />;
  else if (path === '/enqueue' && f && !f.readOnly) page = <Enqueue />;
  else if (path === '/schedules' && f?.features.schedules) page = <Schedules />;
  else
    page = (
      <section>
        <h1>Not found</h1>
        <p>
          Nothing here. <a href="./">Back to the overview</a>.
        </p>
      </section>
    );

  const current = (p: string) => (path === p || (p !== '/' && path.startsWith(`${p}/`)) ? 'page' : undefined);
  return (
    <>
      <a class="skip" href="#main">
        Skip to content
      </a>
      <header class="top">
        <a class="brand" href="./">
          Spool
        </a>
        <nav aria-label="main">
          <a href="./" aria-current={current('/')}>
            Overview
          </a>
          <a href="jobs" aria-current={current('/jobs')}>
            Jobs
          </a>
          <a href="failed" aria-current={current('/failed')}>
            Dead letters
          </a>
          {f && !f.readOnly && (
            <a href="enqueue" aria-current={current('/enqueue')}>
              Add job
            </a>
          )}
          {f?.features.schedules && (
            <a href="schedules" aria-current={current('/schedules')}>
              Schedules
            </a>
          )}
        </nav>
        <span class="spacer" />
        {f && (
          <span class="muted small-text">
            {f.store} · v{f.version}
            {f.readOnly ? ' · read-only' : ''}
          </span>
        )}
        <span class={`live-dot ${connected ? 'on' : 'off'}`} title={connected ? 'live: updates are pushed' : 'not connected: updates paused'} aria-label={connected ? 'live' : 'not live'} />
        <button type="button" class="small" onClick={toggleTheme} aria-label={`switch to ${theme === 'dark' ? 'light' : 'dark'} theme`}>
          {theme === 'dark' ? '☀ Light' : '☾ Dark'}
        </button>
      </header>
      <main id="main" key={generation}>
        {page}
      </main>
    </>
  );
}
