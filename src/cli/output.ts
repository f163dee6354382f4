/** Rendering for people (tables, field lists) and for scripts (JSON). */

export type Cell = string | number | boolean | null | undefined;

export interface Column<T> {
  header: string;
  value: (row: T) => Cell;
  align?: 'left' | 'right';
}

// NOTE: values come from the API (device names, reasons…): control characters are replaced so that
// data cannot move the cursor or recolour the operator's terminal.
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/g;

/** One printable line: control characters and line breaks become spaces. */
export const clean = (s: string): string => s.replace(CONTROL, ' ');

/** Text of a cell: `-` when empty. */
export function cellText(value: Cell): string {
  if (value === null || value === undefined || value === '') return '-';
  if (typeof value === 'boolean') return value ? 'yes' : 'no';
  return clean(String(value));
}

/** Columns a string takes in a terminal: East Asian wide characters take two. */
export function displayWidth(s: string): number {
  let width = 0;
  for (const ch of s) {
    const cp = ch.codePointAt(0)!;
    if (cp >= 0x300 && cp <= 0x36f) continue;
    width += isWide(cp) ? 2 : 1;
  }
  return width;
}

function isWide(cp: number): boolean {
  return (
    (cp >= 0x1100 && cp <= 0x115f) ||
    (cp >= 0x2e80 && cp <= 0xa4cf && cp !== 0x303f) ||
    (cp >= 0xac00 && cp <= 0xd7a3) ||
    (cp >= 0xf900 && cp <= 0xfaff) ||
    (cp >= 0xfe30 && cp <= 0xfe4f) ||
    (cp >= 0xff00 && cp <= 0xff60) ||
    (cp >= 0xffe0 && cp <= 0xffe6) ||
    (cp >= 0x1f300 && cp <= 0x1faff) ||
    (cp >= 0x20000 && cp <= 0x3fffd)
  );
}

const pad = (s: string, width: number, align: 'left' | 'right' = 'left'): string => {
  const fill = ' '.repeat(Math.max(0, width - displayWidth(s)));
  return align === 'right' ? fill + s : s + fill;
};

/** A table with a header row; columns separated by two spaces, no trailing blanks. */
export function renderTable<T>(rows: readonly T[], columns: readonly Column<T>[]): string {
  const cells = rows.map((row) => columns.map((c) => cellText(c.value(row))));
  const widths = columns.map((c, i) => Math.max(displayWidth(c.header), ...cells.map((r) => displayWidth(r[i]!))));
  const line = (values: string[]) =>
    values
      .map((v, i) => (i === values.length - 1 && columns[i]!.align !== 'right' ? v : pad(v, widths[i]!, columns[i]!.align)))
      .join('  ')
      .trimEnd();
  return [line(columns.map((c) => c.header)), ...cells.map(line)].join('\n') + '\n';
}

/** `label  value` lines, labels aligned. */
export function renderFields(fields: readonly (readonly [string, Cell])[]): string {
  const width = Math.max(0, ...fields.map(([label]) => displayWidth(label)));
  return fields.map(([label, value]) => `${pad(label, width)}  ${cellText(value)}`.trimEnd()).join('\n') + '\n';
}

/** An RFC 3339 time without milliseconds, or undefined. */
export const time = (iso: string | null | undefined): string | undefined => (iso ? iso.replace(/\.\d+Z$/, 'Z') : undefined);

/** A list as `a, b, c`, or undefined when empty. */
export const list = (values: readonly string[] | null | undefined): string | undefined => (values?.length ? values.join(', ') : undefined);

export const plural = (n: number, one: string, many = `${one}s`): string => `${n} ${n === 1 ? one : many}`;

/** Where commands write: results to stdout, notes, progress and errors to stderr. */
export interface Output {
  /** Writes text to stdout as is. */
  print(text: string): void;
  /** Writes one line to stderr. */
  note(line: string): void;
  /** Writes a value as indented JSON to stdout. */
  json(value: unknown): void;
  /** True when stderr is a terminal (progress may redraw one line). */
  readonly interactive: boolean;
  /** Redraws the progress line on a terminal; on a pipe writes the line. */
  progress(line: string): void;
  /** Clears the progress line of a terminal. */
  endProgress(): void;
}

export function processOutput(): Output {
  const interactive = process.stderr.isTTY === true;
  let drawn = false;
  return {
    interactive,
    print: (text) => void process.stdout.write(text),
    note(line) {
      if (drawn) this.endProgress();
      process.stderr.write(`${line}\n`);
    },
    json: (value) => void process.stdout.write(`${JSON.stringify(value, null, 2)}\n`),
    progress(line) {
      if (interactive) {
        process.stderr.write(`\r\u001b[2K${line}`);
        drawn = true;
      } else {
        process.stderr.write(`${line}\n`);
      }
    },
    endProgress() {
      if (drawn) process.stderr.write('\r\u001b[2K');
      drawn = false;
    },
  };
}
