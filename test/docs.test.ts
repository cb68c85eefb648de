import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFile } from 'node:fs/promises'
import { ERROR_CODES } from '../src/protocol/errors.js'

test('docs: docs/errors.md lists exactly the error codes of protocol/errors.ts', async () => {
  const text = await readFile(new URL('../docs/errors.md', import.meta.url), 'utf8')
  const documented = [...text.matchAll(/^\| `([a-z_]+)` +\|/gm)].map((m) => m[1])
  assert.deepEqual([...documented].sort(), [...ERROR_CODES].sort())
})
