/**
 * Problems found in the web app's answers by the API description check (api-description.ts),
 * kept until the hook in api-description-hooks.ts fails the test they happened in. A module of
 * its own so the hook loads nothing else.
 */
const recorded: string[] = [];

export function recordAnswerViolation(problem: string): void {
  recorded.push(problem);
}

/** The problems recorded since the last call, emptying the record. */
export function takeAnswerViolations(): string[] {
  return recorded.splice(0);
}
