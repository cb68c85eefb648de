/**
 * A one-line progress bar for long tool runs, drawn on a terminal only (a log file or a pipe
 * gets nothing). Hand-written: a dozen lines do not justify a dependency.
 */

/** Where the bar is drawn (process.stderr in practice). */
export interface ProgressStream {
  write(text: string): unknown
  readonly isTTY?: boolean
}

/** A progress bar; every method is a no-op when the stream is not a terminal. */
export interface ProgressBar {
  /** Redraws with `done` of `total` units, at most every PROGRESS_REDRAW_MS. */
  update(done: number): void
  /** Draws the final state and ends the line. */
  finish(): void
}

/** Width of the bar itself, in characters. */
export const PROGRESS_BAR_WIDTH = 30
/** Least time between two redraws, in milliseconds. */
export const PROGRESS_REDRAW_MS = 100

const SILENT: ProgressBar = { update: () => undefined, finish: () => undefined }

/** A bar labelled `label` counting `total` `unit`s on `stream`. */
export function createProgressBar(
  stream: ProgressStream,
  options: { readonly label: string; readonly total: number; readonly unit: string },
): ProgressBar {
  if (stream.isTTY !== true) return SILENT
  let done = 0
  let drawnAtMs = 0
  const draw = (): void => {
    drawnAtMs = Date.now()
    stream.write(`\r${renderProgress(options.label, done, options.total, options.unit)}`)
  }
  return {
    update(value) {
      done = value
      if (Date.now() - drawnAtMs >= PROGRESS_REDRAW_MS) draw()
    },
    finish() {
      draw()
      stream.write('\n')
    },
  }
}

/** The bar's text, e.g. `migrate [#######-------] 50% 500/1000 rows`. */
export function renderProgress(label: string, done: number, total: number, unit: string): string {
  const ratio = total <= 0 ? 1 : Math.min(1, Math.max(0, done / total))
  const filled = Math.round(ratio * PROGRESS_BAR_WIDTH)
  const bar = '#'.repeat(filled) + '-'.repeat(PROGRESS_BAR_WIDTH - filled)
  const percent = String(Math.floor(ratio * 100)).padStart(3)
  return `${label} [${bar}] ${percent}% ${done}/${total} ${unit}`
}
