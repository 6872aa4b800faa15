// SPDX-License-Identifier: MIT
// Peer server for bench/run.sh: the npm `ws` package on https.createServer, one process.
//   /ws/echo  every message back to its sender (text as text, binary as binary)
//   /ws/chat  every message to every /ws/chat client, the sender included
// usage: node ws_server.js --port N --cert F --key F [--deflate]
'use strict';
const { WebSocketServer } = require('ws');
const { args, opt, httpsServer, listen } = require('./peer_common');

const deflate = args.includes('--deflate');

const server = httpsServer();
server.keepAliveTimeout = 600000;
server.headersTimeout = 600000;

// perMessageDeflate: true takes the package's defaults (threshold 1024, zlib defaults).
const wss = new WebSocketServer({ noServer: true, perMessageDeflate: deflate, maxPayload: 16 << 20 });
const chat = new Set();

server.on('upgrade', (req, socket, head) => {
  if (req.url !== '/ws/echo' && req.url !== '/ws/chat') {
    socket.destroy();
    return;
  }
  wss.handleUpgrade(req, socket, head, (ws) => {
    if (req.url === '/ws/echo') {
      ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
    } else {
      chat.add(ws);
      ws.on('message', (data, isBinary) => {
        for (const peer of chat) peer.send(data, { binary: isBinary });
      });
      ws.on('close', () => chat.delete(ws));
    }
  });
});
server.on('request', (req, res) => {
  res.writeHead(200, { 'Content-Type': 'text/plain', 'Content-Length': 3 });
  res.end('ok\n');
});
listen(server, `ws_server: listening, perMessageDeflate ${deflate}`);
process.on('SIGTERM', () => process.exit(0));
