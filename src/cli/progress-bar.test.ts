import { strict as assert } from 'node:assert'
import { test } from 'node:test'
import { createProgressBar, renderProgress } from './progress-bar.js'

test('progress bar: renders the fraction done', () => {
  assert.equal(renderProgress('copy', 0, 4, 'rows'), `copy [${'-'.repeat(30)}]   0% 0/4 rows`)
  assert.equal(
    renderProgress('copy', 2, 4, 'rows'),
    `copy [${'#'.repeat(15)}${'-'.repeat(15)}]  50% 2/4 rows`,
  )
  assert.equal(renderProgress('copy', 0, 0, 'rows'), `copy [${'#'.repeat(30)}] 100% 0/0 rows`)
})

test('progress bar: drawn on a terminal only, ending with a newline', () => {
  const written: string[] = []
  const terminal = { isTTY: true, write: (text: string) => written.push(text) }
  const bar = createProgressBar(terminal, { label: 'x', total: 2, unit: 'rows' })
  bar.update(1)
  bar.update(2)
  bar.finish()
  assert.equal(written[0], `\rx [${'#'.repeat(15)}${'-'.repeat(15)}]  50% 1/2 rows`)
  assert.deepEqual(written.slice(-2), [`\rx [${'#'.repeat(30)}] 100% 2/2 rows`, '\n'])

  const piped: string[] = []
  const pipe = { isTTY: false, write: (text: string) => piped.push(text) }
  const silent = createProgressBar(pipe, { label: 'x', total: 2, unit: 'rows' })
  silent.update(1)
  silent.finish()
  assert.deepEqual(piped, [])
})
