import * as assert from 'node:assert/strict'
import { test } from 'node:test'
import type { Fail } from './config-values.js'
import {
  parseConnectAddress,
  parseListenAddresses,
  parseNetworkAddress,
  parseTcpAddress,
  toListenKey,
} from './network-address.js'

const fail: Fail = (reason) => {
  throw new Error(reason)
}
const CWD = '/srv'

void test('network address: host:port, [v6]:port and an empty host are TCP', () => {
  assert.deepEqual(parseNetworkAddress('127.0.0.1:8585', CWD, fail), {
    kind: 'tcp',
    host: '127.0.0.1',
    port: 8585,
    text: '127.0.0.1:8585',
  })
  assert.deepEqual(parseNetworkAddress('[::1]:0', CWD, fail), {
    kind: 'tcp',
    host: '::1',
    port: 0,
    text: '[::1]:0',
  })
  assert.deepEqual(parseNetworkAddress('build-host:65535', CWD, fail), {
    kind: 'tcp',
    host: 'build-host',
    port: 65535,
    text: 'build-host:65535',
  })
  assert.equal(parseNetworkAddress(':8686', CWD, fail).kind, 'tcp')
})

void test('network address: unix:// paths resolve against the working directory', () => {
  assert.deepEqual(parseNetworkAddress('unix://./prserv.sock', CWD, fail), {
    kind: 'unix',
    path: '/srv/prserv.sock',
    text: 'unix://./prserv.sock',
  })
  assert.deepEqual(parseNetworkAddress('unix://prserv.sock', CWD, fail), {
    kind: 'unix',
    path: '/srv/prserv.sock',
    text: 'unix://prserv.sock',
  })
  assert.equal(parseNetworkAddress('unix:///run/p.sock', CWD, fail).kind, 'unix')
})

void test('network address: ws:// and wss:// are WebSockets with default ports', () => {
  assert.deepEqual(parseNetworkAddress('ws://[::1]:9000/prserv', CWD, fail), {
    kind: 'websocket',
    host: '::1',
    port: 9000,
    url: 'ws://[::1]:9000/prserv',
    isSecure: false,
    text: 'ws://[::1]:9000/prserv',
  })
  const plain = parseNetworkAddress('ws://example.com', CWD, fail)
  assert.ok(plain.kind === 'websocket' && plain.port === 80)
  const secure = parseNetworkAddress('wss://example.com/x', CWD, fail)
  assert.ok(secure.kind === 'websocket' && secure.port === 443 && secure.isSecure)
})

void test('network address: malformed addresses are rejected', () => {
  const bad = ['', 'localhost', '::1:8686', 'a:b:c', 'host:', 'host:port', 'host:65536', 'unix://']
  for (const text of bad) {
    assert.throws(() => parseNetworkAddress(text, CWD, fail), Error, text)
  }
  assert.throws(() => parseNetworkAddress('ws://[bad', CWD, fail), /unclosed/)
})

void test('network address: upstream addresses are TCP with a host and a non-zero port', () => {
  assert.equal(parseTcpAddress('up:8585', fail).host, 'up')
  for (const raw of ['unix://x', 'ws://h:1', ':8585', 'h:0', 3]) {
    assert.throws(() => parseTcpAddress(raw, fail), /host/, String(raw))
  }
})

void test('network address: connect addresses need a host and a non-zero port', () => {
  assert.equal(parseConnectAddress('unix://s.sock', CWD, fail).kind, 'unix')
  assert.equal(parseConnectAddress('ws://h:1', CWD, fail).kind, 'websocket')
  for (const raw of [':8585', 'h:0', 'ws://:0', null]) {
    assert.throws(() => parseConnectAddress(raw, CWD, fail), Error, String(raw))
  }
})

void test('network address: listen lists accept a string, commas or a list', () => {
  const texts = (raw: unknown) =>
    parseListenAddresses(raw, CWD, fail).map((address) => address.text)
  assert.deepEqual(texts('a:1'), ['a:1'])
  assert.deepEqual(texts('a:1, unix://s , '), ['a:1', 'unix://s'])
  assert.deepEqual(texts(['a:1', 'ws://b:2']), ['a:1', 'ws://b:2'])
})

void test('network address: listen lists name the bad element and need one address', () => {
  assert.throws(() => parseListenAddresses(['a:1', 'nope'], CWD, fail), /^Error: "nope": expected/)
  assert.throws(() => parseListenAddresses('a:1,nope', CWD, fail), /"nope"/)
  assert.throws(() => parseListenAddresses([], CWD, fail), /at least one/)
  assert.throws(() => parseListenAddresses(' , ', CWD, fail), /at least one/)
  assert.throws(() => parseListenAddresses([1], CWD, fail), /string/)
  assert.throws(() => parseListenAddresses({}, CWD, fail), /list of addresses/)
})

void test('network address: listen keys collide on socket path or host and port', () => {
  const key = (text: string) => toListenKey(parseNetworkAddress(text, CWD, fail))
  assert.equal(key('Host:1'), key('ws://host:1/x'))
  assert.equal(key('unix://s'), key('unix:///srv/s'))
  assert.notEqual(key('a:1'), key('a:2'))
  assert.equal(key('a:0'), null)
})
