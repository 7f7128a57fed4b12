/**
 * Keeps secrets out of output. Connection URLs carry passwords; catalog values such as pg_subscription.subconninfo
 * carry them too. Everything bgmig prints about a connection goes through here.
 */

/** postgres://user:secret@host:5432/db → postgres://user:***@host:5432/db */
export function redactUrl(url: string): string {
  return url.replace(/([a-z][a-z0-9+.-]*:\/\/[^:/@\s]+):[^@\s]*@/gi, '$1:***@');
}

/** host=… password=secret … → password=*** (libpq keyword/value conninfo strings). */
export function redactConninfo(conninfo: string): string {
  return conninfo.replace(/(password\s*=\s*)('(?:[^'\\]|\\.)*'|\S+)/gi, '$1***');
}

/** Replaces every occurrence of each known secret in text (for error messages from drivers). */
export function scrub(text: string, secrets: ReadonlyArray<string | undefined>): string {
  let out = redactConninfo(redactUrl(text));
  for (const s of secrets) {
    if (s && s.length >= 4) out = out.split(s).join('***');
  }
  return out;
}
