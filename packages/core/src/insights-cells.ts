/**
 * Small-cell suppression for the participation insights (docs/SECURITY.md B35).
 *
 * A cell is a number shown in a table together with how many people stand behind it. The rule:
 * - **primary**: a cell describing 1 to 4 people (fewer than `minPeople`) is withheld. A cell
 *   describing nobody (0) is shown: it says nothing about anyone;
 * - **complementary**: the cells of an additive line (parts and the total they add up to, e.g.
 *   email-only + web-only + both = active people, or week 1 + … + week n = the range) must never
 *   have exactly one withheld cell, or it could be recomputed by subtraction. While some line has
 *   exactly one, the line's other cell describing the fewest people (a part before the total) is
 *   withheld too, and the lines are checked again until none has exactly one.
 * This stops recomputation by subtracting within a line. It is the usual "at least two per line"
 * heuristic, not a proof against every linear combination across many lines.
 */

/** A number of the report and the count of distinct people it describes. */
export interface RawCell {
  value: number;
  people: number;
}

/** A cell as shown: `value` is null when withheld, and `suppressed` says so. */
export interface Cell {
  value: number | null;
  suppressed: boolean;
}

/** Cells fewer people than this describe are withheld. @defaultValue 5 */
export const MIN_PEOPLE = 5;

/**
 * Which cells to withhold. `lines` are additive groups of cell indexes, the total LAST.
 * @returns one flag per cell, true = withheld
 */
export function suppressCells(cells: readonly RawCell[], lines: readonly (readonly number[])[], minPeople = MIN_PEOPLE): boolean[] {
  const out = cells.map((c) => c.people > 0 && c.people < minPeople);
  for (let changed = true; changed; ) {
    changed = false;
    for (const line of lines) {
      const hidden = line.filter((i) => out[i]);
      if (hidden.length !== 1) continue;
      const total = line[line.length - 1]!;
      const pick = cheapest(line.filter((i) => !out[i] && i !== total), cells) ?? (out[total] ? undefined : total);
      if (pick === undefined) continue;
      out[pick] = true;
      changed = true;
    }
  }
  return out;
}

/** The open cell that costs least to withhold: fewest people, then smallest value, then first. */
function cheapest(candidates: number[], cells: readonly RawCell[]): number | undefined {
  let best: number | undefined;
  for (const i of candidates) {
    if (best === undefined) best = i;
    else {
      const a = cells[i]!;
      const b = cells[best]!;
      if (a.people < b.people || (a.people === b.people && a.value < b.value)) best = i;
    }
  }
  return best;
}

/**
 * Collects the cells of one report and the lines between them, then decides them all at once,
 * so that a line spanning two tables (weeks and their range total) is protected as one.
 */
export class CellBook {
  private readonly cells: RawCell[] = [];
  private readonly lines: number[][] = [];
  private decided: boolean[] | null = null;

  constructor(private readonly minPeople = MIN_PEOPLE) {}

  /** Register a cell. @returns its handle, for `line()` and `cell()` */
  add(value: number, people: number): number {
    this.cells.push({ value, people });
    return this.cells.length - 1;
  }

  /** Parts that add up to `total` (both as handles). */
  line(parts: number[], total: number): void {
    this.lines.push([...parts, total]);
  }

  /** The shown cell of a handle (decides every cell the first time). */
  cell(handle: number): Cell {
    this.decided ??= suppressCells(this.cells, this.lines, this.minPeople);
    return this.decided[handle] ? { value: null, suppressed: true } : { value: this.cells[handle]!.value, suppressed: false };
  }
}
