/** Query parameters whose values are secrets (libpq's password, sslpassword, and the like). */
const SECRET_PARAM = /pass|secret|token|key/i;

/**
 * A connection URL fit for an error message: the password and secret query parameters replaced by ***.
 * Parsed with the WHATWG URL parser, so `app:p@ss@db` (an unescaped @ in the password) and
 * `?password=secret` are both caught; a URL that does not parse is not shown at all.
 */
export function redactUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return '(a connection URL that does not parse; not shown, it may hold a password)';
  }
  if (parsed.password !== '') parsed.password = '***';
  for (const key of [...parsed.searchParams.keys()]) {
    if (SECRET_PARAM.test(key)) parsed.searchParams.set(key, '***');
  }
  return parsed.toString().replace(/%2A%2A%2A/g, '***');
}
