/**
 * Text both stores hold exactly as given. PostgreSQL text cannot hold NUL (U+0000) at all, and a lone UTF-16
 * surrogate (half of a pair, e.g. '\ud800') is not Unicode: PostgreSQL refuses it in JSON it must decode
 * and mangles it in text, SQLite stores bytes that are not UTF-8. JSON values (data, result, progress) keep
 * both, escaped, on both stores; plain text fields do not.
 */


// ES2024 string methods (Node 20 has them; tsconfig's lib is ES2023).
declare global {
  interface String {
    isWellFormed(): boolean;
    toWellFormed(): string;
  }
}

/** Why `text` cannot be stored as plain text, or null when it can. */
export function textProblem(text: string): string | null {
  if (text.includes('\u0000')) return 'contains a NUL byte (\\u0000), which PostgreSQL cannot store in text';
  if (!text.isWellFormed()) return 'contains a lone surrogate (half of a UTF-16 pair), which is not valid Unicode';
  return null;
}

/**
 * `text` with every NUL and lone surrogate replaced by U+FFFD (the replacement character): what Spool stores
 * for text it did not choose and must not refuse, such as the message of an error a handler threw.
 * Costs one scan of the text; text that needs nothing is returned as is.
 */
export function storableText(text: string): string {
  if (text.isWellFormed() && !text.includes('\u0000')) return text;
  return text.toWellFormed().replaceAll('\u0000', '\ufffd');
}
