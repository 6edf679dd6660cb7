/**
 * Errors meant for people: a UserError carries a message that says what is wrong and what to do.
 * Anything else reaching the CLI or the extension is a bug and is reported with its stack.
 */
export class UserError extends Error {
  constructor(message: string, readonly hint?: string) {
    super(hint ? `${message}\n  → ${hint}` : message);
    this.name = 'UserError';
  }
}

export function isUserError(e: unknown): e is UserError {
  return e instanceof Error && e.name === 'UserError';
}
