// SPDX-License-Identifier: MIT
// What the node peers of bench/run.sh share: their flags and the HTTPS server, whose TLS suite
// preference must be the same for every peer (and the same as ns_serve's and nginx's), so the
// comparison measures the servers, not the ciphers.
'use strict';
const fs = require('fs');
const https = require('https');

const args = process.argv.slice(2);

// The value after flag @p name, or @p def.
function opt(name, def) {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : def;
}

// An https.Server on --cert/--key with the bench's suite preference (AES-128-GCM first).
function httpsServer() {
  return https.createServer({
    cert: fs.readFileSync(opt('--cert')),
    key: fs.readFileSync(opt('--key')),
    ciphers: 'TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256:' +
             'ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384',
    honorCipherOrder: true,
  });
}

// Listens on --bind:--port (127.0.0.1:8443) and says so on stderr with @p what.
function listen(server, what) {
  server.listen(Number(opt('--port', '8443')), opt('--bind', '127.0.0.1'), () => {
    process.stderr.write(`${what}\n`);
  });
}

module.exports = { args, opt, httpsServer, listen };
