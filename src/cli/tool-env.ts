/** Process facts the data tools (`export`, `import`, `migrate`) need, injected by main.ts. */
import type { ProgressStream } from './progress-bar.js'

/** What a tool command may touch of the process. */
export interface ToolCommandEnv {
  /** Working directory: relative paths resolve against it. */
  readonly cwd: string
  /** Writes results (summaries, exported data with `-`). */
  readonly stdout: (text: string) => void
  /** Diagnostics and the progress bar (drawn only when it is a terminal). */
  readonly stderr: ProgressStream
  /** Standard input as text, in pieces as they arrive (`import -`). */
  readonly stdin: () => AsyncIterable<string>
  /** Sets the exit status without stopping (a run that finished but had failures). */
  readonly setExitCode: (code: number) => void
}

/** Exit status of a tool run that finished with failed rows or a failed verification. */
export const EXIT_INCOMPLETE = 1

/** A commander option value as a string, or undefined. */
export function optionalText(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined
}

/** The export/import filters from `--version`, `--pkgarch`, `--checksum` (null: no filter). */
export function readFilterFlags(opts: Readonly<Record<string, unknown>>): {
  readonly version: string | null
  readonly pkgarch: string | null
  readonly checksum: string | null
} {
  return {
    version: optionalText(opts.version) ?? null,
    pkgarch: optionalText(opts.pkgarch) ?? null,
    checksum: optionalText(opts.checksum) ?? null,
  }
}
