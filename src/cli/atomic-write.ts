/**
 * Writing a file so that readers see the old contents or the whole new contents, never a
 * part: a temp file in the same directory, fsync, rename over the target, fsync the directory.
 */
import { randomBytes } from 'node:crypto'
import { open, rename, rm } from 'node:fs/promises'
import type { FileHandle } from 'node:fs/promises'
import { basename, dirname, join } from 'node:path'

/**
 * Replaces (or creates) `path` with `text` atomically. On failure the target is unchanged,
 * the temp file is removed and the error is rethrown (for example ENOENT when the directory
 * does not exist).
 */
export async function writeFileAtomic(path: string, text: string): Promise<void> {
  const directory = dirname(path)
  const temp = join(directory, `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`)
  let handle: FileHandle | null = null
  try {
    handle = await open(temp, 'wx')
    await handle.writeFile(text, 'utf8')
    await handle.sync()
    await handle.close()
    handle = null
    await rename(temp, path)
  } catch (error: unknown) {
    await handle?.close().catch(() => undefined)
    await rm(temp, { force: true })
    throw error
  }
  await syncDirectory(directory)
}

/** Makes the rename durable. Best effort: some platforms cannot open a directory. */
async function syncDirectory(directory: string): Promise<void> {
  let handle: FileHandle | null = null
  try {
    handle = await open(directory, 'r')
    await handle.sync()
  } catch {
    // The file is complete and in place either way; only its durability across a power cut
    // is left to the operating system here.
  } finally {
    await handle?.close()
  }
}
