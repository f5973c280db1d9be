/** What the server injected into index.html (src/server/static.ts): a JSON block, never a script. */
export interface Config {
  basePath: string;
  auth: boolean;
  readOnly: boolean;
  store: string;
  version: string;
}

function read(): Config {
  const fallback: Config = { basePath: '', auth: false, readOnly: false, store: '?', version: '?' };
  try {
    const text = document.getElementById('spool-config')?.textContent;
    return text ? { ...fallback, ...(JSON.parse(text) as Partial<Config>) } : fallback;
  } catch {
    return fallback;
  }
}

export const config: Config = read();
