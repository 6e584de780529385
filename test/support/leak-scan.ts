/** What no response body may contain; shared by every test's requests and the reliability suite. */
export const LEAK_PATTERNS: [string, RegExp][] = [
  ['stack frame', /\bat\s+\S+\s+\(|\bat\s+(?:\/|file:|node:)/],
  ['source line reference', /\.(?:ts|js|mjs|cjs):\d+/],
  ['file path', /\/(?:work|home|usr|tmp|app)\/[\w.-]+\//],
  ['SQL text', /\b(?:SELECT|INSERT INTO|UPDATE \S+ SET|DELETE FROM)\s/],
  ['driver error', /QueryFailedError|TypeORMError|duplicate key value|violates \w+ constraint|syntax error at/i],
  ['upstream body', /UPSTREAM-BODY-MARKER|RESOURCE_EXHAUSTED|generativelanguage/],
];

/**
 * Finds internals in a response body. `secrets` are exact strings that must never come back
 * (JWT secret, device keys, passwords); `allowed` are values the request itself sent and the
 * API legitimately echoes (e.g. an SQL-looking organization name stored verbatim).
 */
export function scanBody(text: string, secrets: string[], allowed: string[] = []): string[] {
  let probe = text;
  // longest first: removing a short echoed value ('a') first would break up a longer one
  for (const a of [...allowed].sort((x, y) => y.length - x.length)) {
    if (a) {
      probe = probe.split(a).join('');
      // JSON-escaped form of the echoed value
      probe = probe.split(JSON.stringify(a).slice(1, -1)).join('');
    }
  }
  const found: string[] = [];
  for (const [label, re] of LEAK_PATTERNS) {
    if (re.test(probe)) {
      found.push(label);
    }
  }
  for (const s of secrets) {
    if (s && text.includes(s)) {
      found.push(`secret ${s.slice(0, 6)}…`);
    }
  }
  return found;
}
