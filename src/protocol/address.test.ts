import { test } from 'node:test'
import assert from 'node:assert/strict'
import {
  formatAddress,
  formatTcpAddress,
  formatUnixAddress,
  formatWebSocketAddress,
  parseAddress,
} from './address.js'
import type { RpcAddress } from './address.js'
import { ConfigError } from './errors.js'

test('address: parses every form of asyncrpc.md §2.2', () => {
  const cases: [string, RpcAddress][] = [
    ['localhost:8585', { kind: 'tcp', host: 'localhost', port: 8585 }],
    ['127.0.0.1:0', { kind: 'tcp', host: '127.0.0.1', port: 0 }],
    [':8686', { kind: 'tcp', host: '', port: 8686 }],
    ['[::1]:8686', { kind: 'tcp', host: '::1', port: 8686 }],
    ['[fe80::1%eth0]:1', { kind: 'tcp', host: 'fe80::1%eth0', port: 1 }],
    ['unix://./hashserve.sock', { kind: 'unix', path: './hashserve.sock' }],
    ['unix://name.sock', { kind: 'unix', path: 'name.sock' }],
    ['unix:///run/x y.sock', { kind: 'unix', path: '/run/x y.sock' }],
    [
      'ws://host:1234/path?q',
      {
        kind: 'websocket',
        url: 'ws://host:1234/path?q',
        isSecure: false,
        host: 'host',
        port: 1234,
      },
    ],
    [
      'ws://[::1]:80',
      { kind: 'websocket', url: 'ws://[::1]:80', isSecure: false, host: '::1', port: 80 },
    ],
    ['ws://h', { kind: 'websocket', url: 'ws://h', isSecure: false, host: 'h', port: 80 }],
    [
      'wss://user@h/p',
      { kind: 'websocket', url: 'wss://user@h/p', isSecure: true, host: 'h', port: 443 },
    ],
    [':0', { kind: 'tcp', host: '', port: 0 }],
    ['ws://:8686', { kind: 'websocket', url: 'ws://:8686', isSecure: false, host: '', port: 8686 }],
  ]
  for (const [text, expected] of cases) assert.deepEqual(parseAddress(text), expected, text)
})

test('address: rejects what BitBake rejects, naming the text', () => {
  const bad = ['::1:8686', 'host', 'host:port', 'a:b:c', 'host:99999', 'unix://', '[::1]', 'h:-1']
  for (const text of bad) {
    assert.throws(() => parseAddress(text), ConfigError, text)
    assert.throws(
      () => parseAddress(text),
      new RegExp(JSON.stringify(text).replace(/[[\]]/g, '\\$&')),
    )
  }
  assert.throws(() => parseAddress('ws://[::1'), ConfigError)
  assert.throws(() => parseAddress('ws://h:x'), ConfigError)
})

test('address: formats addresses in the same syntax', () => {
  assert.equal(formatTcpAddress('127.0.0.1', 8585), '127.0.0.1:8585')
  assert.equal(formatTcpAddress('::1', 8585), '[::1]:8585')
  assert.equal(formatUnixAddress('/run/prserv.sock'), 'unix:///run/prserv.sock')
  assert.equal(formatWebSocketAddress('::', 80), 'ws://[::]:80')
  for (const text of ['[::1]:1', 'h:2', 'unix://./x', 'ws://h:3/p']) {
    assert.equal(formatAddress(parseAddress(text)), text)
  }
})
