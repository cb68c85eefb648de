/**
 * Unix socket paths longer than `sun_path` (asyncrpc.md §2.3). BitBake changes directory to
 * bind or connect by base name; chdir is process-wide, so we go through a private symlink to
 * the socket's directory instead, which keeps the path short for the one system call.
 */
import { mkdtemp, rmdir, symlink, unlink } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { basename, dirname, join, resolve } from 'node:path'
import { ConfigError } from '../protocol/errors.js'

/**
 * Longest socket path, in bytes, used as given: Linux allows 107 (108 with the NUL), macOS
 * 103; Node truncates longer paths silently, so they must never reach bind() or connect().
 */
export const MAX_UNIX_PATH_BYTES = 103

const LINK_NAME = 'd'

function fitsSocketPath(path: string): boolean {
  return Buffer.byteLength(path, 'utf8') <= MAX_UNIX_PATH_BYTES
}

/**
 * Runs `use` with a path naming the same socket as `path` that fits `sun_path`: `path` itself
 * when short enough (unless `isLinkAlways`), else `<private temp dir>/d/<base name>` where `d`
 * links to the socket's directory. The link is removed when `use` settles.
 */
export async function withShortUnixPath<T>(
  path: string,
  use: (shortPath: string) => Promise<T>,
  isLinkAlways = false,
): Promise<T> {
  if (!isLinkAlways && fitsSocketPath(path)) return use(path)
  const absolute = resolve(path)
  const linkParent = await mkdtemp(join(tmpdir(), 'prserv-'))
  const link = join(linkParent, LINK_NAME)
  try {
    const shortPath = join(link, basename(absolute))
    if (!fitsSocketPath(shortPath)) {
      throw new ConfigError(`Unix socket name too long: ${JSON.stringify(basename(absolute))}`)
    }
    await symlink(dirname(absolute), link)
    return await use(shortPath)
  } finally {
    // Remove exactly the link and its private directory, never anything behind the link. The
    // link is missing when symlink() itself failed; that error is already propagating.
    await unlink(link).catch(() => undefined)
    await rmdir(linkParent)
  }
}
