import * as assert from 'node:assert/strict'
import { test } from 'node:test'
import type { ClientConfig, ServerConfig } from './config.js'
import { loadClientConfig, loadServerConfig } from './load-config.js'
import { redactConfig, redactUrl } from './redact-config.js'

const noFile = (): string => {
  throw Object.assign(new Error('ENOENT'), { code: 'ENOENT' })
}

function serverWith(database: string, bind: string[]): ServerConfig {
  return loadServerConfig({ flags: { database, bind }, env: {}, readFile: noFile, cwd: '/srv' })
}

function clientWith(server: string): ClientConfig {
  return loadClientConfig({ flags: { server }, env: {}, readFile: noFile, cwd: '/srv' })
}

void test('redact: URL passwords are replaced and everything else is kept', () => {
  assert.equal(
    redactUrl('postgres://user:pa%40ss@db-host:5432/prserv_2026?sslmode=require'),
    'postgres://user:***@db-host:5432/prserv_2026?sslmode=require',
  )
  assert.equal(redactUrl('postgresql://user:secret@h/db'), 'postgresql://user:***@h/db')
  assert.equal(redactUrl('ws://u:secret@h:1/x'), 'ws://u:***@h:1/x')
})

void test('redact: text without a password is unchanged', () => {
  for (const text of ['postgres://user@h/db', 'postgres://h/db', '/var/db.sqlite3', 'a:1', '']) {
    assert.equal(redactUrl(text), text)
  }
})

void test('redact: unparseable URLs with user info hide all of it', () => {
  assert.equal(redactUrl('postgres://u:se cret@[bad/db'), 'postgres://***@[bad/db')
})

void test('redact: redactConfig hides the PostgreSQL password of every dataset', () => {
  const config = serverWith('postgres://pr:hunter2@db/prserv', ['ws://u:pw@0.0.0.0:1', 'a:2'])
  const redacted = redactConfig(config)
  const text = JSON.stringify(redacted)
  assert.ok(!text.includes('hunter2') && !text.includes(':pw@'), text)
  const [dataset] = redacted.datasets
  assert.ok(dataset !== undefined)
  assert.deepEqual(dataset.storage, { kind: 'postgres', url: 'postgres://pr:***@db/prserv' })
  assert.equal(dataset.listen[1], config.datasets[0]?.listen[1])
  assert.ok(Object.isFrozen(redacted) && Object.isFrozen(dataset))
  assert.ok(JSON.stringify(config).includes('hunter2'), 'the original is untouched')
})

void test('redact: redactConfig leaves SQLite paths alone and handles the client', () => {
  const sqlite = redactConfig(serverWith('db.sqlite3', ['a:1']))
  assert.deepEqual(sqlite.datasets[0]?.storage, { kind: 'sqlite', path: '/srv/db.sqlite3' })
  const client = redactConfig(clientWith('ws://u:secret@h:1/x'))
  assert.ok(!JSON.stringify(client).includes('secret'))
  assert.equal(client.serverAddress.text, 'ws://u:***@h:1/x')
  assert.equal(redactConfig(clientWith('h:1')).serverAddress.text, 'h:1')
})
