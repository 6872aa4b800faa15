#!/usr/bin/env node
// SPDX-License-Identifier: MIT
// WebSocket client checks against network_server with node's `ws` package.
// Usage: node ws_client.js MODE PORT [--path P] [--compression on|off] [--clients N]
//   echo       text and binary echo from 0 B to 16 MiB, a fragmented send, ping/pong, close 1000
//   broadcast  N clients on a chat path, 4 senders: every client receives every message
//              exactly once and in order per sender
// Prints "OK <mode>" and exits 0, or "FAIL ..." and exits 1. Certificate verification is off
// (the test server's certificate is self-signed).
'use strict';
const WebSocket = require('ws');

const args = { mode: process.argv[2], port: Number(process.argv[3]), path: '/echo', compression: 'off', clients: 100 };
for (let i = 4; i < process.argv.length; i += 2) args[process.argv[i].replace(/^--/, '')] = process.argv[i + 1];

function check(cond, what) { if (!cond) throw new Error(what); }

function open(path) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`wss://127.0.0.1:${args.port}${path || args.path}`, {
      rejectUnauthorized: false,
      perMessageDeflate: args.compression === 'on',
      maxPayload: 64 * 1024 * 1024,
    });
    const queue = [];
    const waiters = [];
    ws.on('message', (data, isBinary) => {
      const m = { data, isBinary };
      if (waiters.length) waiters.shift()(m); else queue.push(m);
    });
    ws.pending = () => queue.length;
    ws.recv = () => new Promise((res, rej) => {
      if (queue.length) return res(queue.shift());
      const t = setTimeout(() => rej(new Error('recv timeout')), 60000);
      waiters.push((m) => { clearTimeout(t); res(m); });
    });
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
  });
}

function payload(n, text) {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; ++i) b[i] = text ? 97 + ((i * 7 + Math.floor(i / 13)) % 26) : (i * 131 + (i >> 8)) & 0xff;
  return text ? b.toString('latin1') : b;
}

async function echo() {
  const ws = await open();
  const ext = ws.extensions || '';
  check(ext.includes('permessage-deflate') === (args.compression === 'on'), `extensions: ${ext}`);
  for (const text of [true, false]) {
    for (const n of [0, 1, 125, 126, 65535, 65536, 1 << 20, 16 << 20]) {
      const p = payload(n, text);
      ws.send(p, { binary: !text });
      const m = await ws.recv();
      check(m.isBinary === !text, `type of echo of ${n} bytes (text=${text})`);
      check(text ? m.data.toString() === p : Buffer.compare(m.data, p) === 0, `echo of ${n} bytes (text=${text}) differs`);
    }
  }
  ws.send('frag', { fin: false });
  ws.send('mented ', { fin: false });
  ws.send('message', { fin: true });
  let m = await ws.recv();
  check(!m.isBinary && m.data.toString() === 'fragmented message', `fragmented: ${m.data}`);
  await new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error('no pong')), 10000);
    ws.once('pong', (d) => { clearTimeout(t); check(d.toString() === 'are you there', 'pong payload'); resolve(); });
    ws.ping('are you there');
  });
  const code = await new Promise((resolve) => { ws.once('close', (c) => resolve(c)); ws.close(1000, 'done'); });
  check(code === 1000, `close code ${code}`);
  console.log('OK echo', args.compression === 'on' ? 'compression' : 'plain');
}

async function broadcast() {
  const n = Number(args.clients);
  const senders = 4, perSender = 20;
  const conns = [];
  for (let i = 0; i < n; ++i) conns.push(await open());
  await new Promise((r) => setTimeout(r, 200));
  for (let j = 0; j < perSender; ++j) for (let k = 0; k < senders; ++k) conns[k].send(`sender ${k} message ${j} ` + 'x'.repeat(200));
  await Promise.all(conns.map(async (ws, i) => {
    const next = new Array(senders).fill(0);
    for (let m = 0; m < senders * perSender; ++m) {
      const msg = (await ws.recv()).data.toString().split(' ');
      const k = Number(msg[1]), j = Number(msg[3]);
      check(j === next[k], `client ${i}: sender ${k} message ${j}, expected ${next[k]}`);
      ++next[k];
    }
  }));
  await new Promise((r) => setTimeout(r, 50));
  conns.forEach((ws, i) => check(ws.pending() === 0, `client ${i}: unexpected extra message`));
  await Promise.all(conns.map((ws) => new Promise((resolve) => { ws.once('close', resolve); ws.close(1000); })));
  console.log('OK broadcast', n);
}

({ echo, broadcast })[args.mode]().then(() => process.exit(0), (e) => { console.log(`FAIL ${args.mode}: ${e.message}`); process.exit(1); });
