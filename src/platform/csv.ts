import { stringify, type Stringifier } from 'csv-stringify';

/**
 * CSV for spreadsheets. A cell that starts with `=`, `+`, `-` or `@` (or a tab or carriage return,
 * which some spreadsheets skip before looking) is run as a formula when the file is opened
 * ("CSV injection"): such a cell gets a leading apostrophe, which spreadsheets show as text and
 * do not display. Every CSV export goes through `csvExport` (or `csvCell` for a single value).
 */
const FORMULA_START = /^[=+\-@\t\r]/;

export const csvCell = (value: string): string => (FORMULA_START.test(value) ? `'${value}` : value);

/** A csv-stringify transform with a header row and every string cell escaped by `csvCell`. */
export function csvExport(columns: readonly string[]): Stringifier {
  return stringify({ header: true, columns: [...columns], cast: { string: (value) => csvCell(value) } });
}
