/**
 * Spreadsheets run a cell that starts with one of these as a formula. Names come from the public
 * signup form, so an export opened in Excel must not execute `=HYPERLINK(...)` a stranger typed.
 */
const formulaStart = /^[=+\-@]/;
const guardedFormula = /^'[=+\-@]/;

/** Prefixes a leading apostrophe, which spreadsheets show as text (the OWASP CSV-injection advice). */
export function guardFormula(text: string): string {
  return formulaStart.test(text) ? `'${text}` : text;
}

/** Undoes guardFormula, so an exported file imports back unchanged. */
export function unguardFormula(text: string): string {
  return guardedFormula.test(text) ? text.slice(1) : text;
}
