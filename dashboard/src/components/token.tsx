import { useState } from 'preact/hooks';
import { setToken } from '../api.ts';

/** Asked once per tab when the API answers 401; kept in sessionStorage only. */
export function TokenPrompt({ onDone }: { onDone: () => void }) {
  const [value, setValue] = useState('');
  return (
    <section class="token">
      <h1>This server needs a token</h1>
      <p>Enter the server's SPOOL_TOKEN. It is kept in this tab only (sessionStorage) and sent to this server alone.</p>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          if (!value.trim()) return;
          setToken(value.trim());
          onDone();
        }}
      >
        <label>
          Token
          <input name="token" type="password" autocomplete="current-password" autofocus value={value} onInput={(e) => setValue(e.currentTarget.value)} />
        </label>
        <button type="submit" class="primary">
          Continue
        </button>
      </form>
    </section>
  );
}
