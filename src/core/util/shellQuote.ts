/** Quotes `s` for a POSIX shell when it needs it (printed follow-up commands must paste safely). */
export function shellQuote(s: string): string {
  if (/^[A-Za-z0-9_\/.,:=@%+-]+$/.test(s)) return s;
  return `'${s.replace(/'/g, `'\\''`)}'`;
}
