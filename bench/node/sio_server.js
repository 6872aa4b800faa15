// SPDX-License-Identifier: MIT
// Peer server of bench/run.sh's cluster_fanout: Socket.IO 4.8 on https.createServer with
// @socket.io/redis-adapter 8 over the `redis` npm client (one publisher and one subscriber
// link per process, the adapter's own layout). Run two of them on one redis-server.
// Every client joins the room its handshake names (?room=NAME, default "lobby"), as ns_serve's
// /ws/chat does; an event "m" from a client goes to the whole room on every process, the
// sender included (io.to(room).emit, as ns_serve's publish reaches its publisher too).
// usage: node sio_server.js --port N --cert F --key F --redis-port N
'use strict';
const { Server } = require('socket.io');
const { createAdapter } = require('@socket.io/redis-adapter');
const { createClient } = require('redis');
const { opt, httpsServer, listen } = require('./peer_common');

async function main() {
  const server = httpsServer();
  const url = `redis://127.0.0.1:${opt('--redis-port')}`;
  const pub = createClient({ url });
  const sub = pub.duplicate();
  for (const c of [pub, sub]) c.on('error', (e) => process.stderr.write(`sio_server: redis: ${e}\n`));
  await Promise.all([pub.connect(), sub.connect()]);
  // Package defaults otherwise: perMessageDeflate off (as wsload offers none), pings every 25 s.
  const io = new Server(server, { adapter: createAdapter(pub, sub), serveClient: false });
  io.on('connection', (socket) => {
    const room = String(socket.handshake.query.room || 'lobby');
    socket.join(room);
    socket.on('m', (data) => io.to(room).emit('m', data));
  });
  listen(server, `sio_server: listening, redis ${url}`);
}

main().catch((e) => {
  process.stderr.write(`sio_server: ${e.stack || e}\n`);
  process.exit(1);
});
process.on('SIGTERM', () => process.exit(0));
