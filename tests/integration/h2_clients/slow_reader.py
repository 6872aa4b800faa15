#!/usr/bin/python3
# SPDX-License-Identifier: MIT
# An HTTP/2 client (Debian python3-h2) that never opens its flow-control window: SETTINGS
# INITIAL_WINDOW_SIZE 0, one GET, no WINDOW_UPDATE ever. Prints "closed <seconds> <data bytes>"
# when the server ends the connection, or "open <data bytes>" if it is still open after
# LIMIT seconds. Usage: slow_reader.py PORT PATH LIMIT
import socket
import ssl
import sys
import time

import h2.config
import h2.connection
import h2.events
import h2.settings

port, path, limit = int(sys.argv[1]), sys.argv[2], float(sys.argv[3])
ctx = ssl.create_default_context()
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
ctx.set_alpn_protocols(['h2'])
sock = ctx.wrap_socket(socket.create_connection(('127.0.0.1', port)), server_hostname='localhost')
assert sock.selected_alpn_protocol() == 'h2', sock.selected_alpn_protocol()
conn = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True))
conn.local_settings = h2.settings.Settings(client=True, initial_values={
    h2.settings.SettingCodes.INITIAL_WINDOW_SIZE: 0})
conn.initiate_connection()
conn.send_headers(1, [(':method', 'GET'), (':scheme', 'https'), (':authority', 'localhost'),
                      (':path', path)], end_stream=True)
sock.sendall(conn.data_to_send())
start = time.monotonic()
got = 0
sock.settimeout(0.2)
while time.monotonic() - start < limit:
    try:
        data = sock.recv(65536)
    except socket.timeout:
        continue
    except (ConnectionResetError, ssl.SSLError):
        data = b''
    if not data:
        print('closed %.1f %d' % (time.monotonic() - start, got))
        sys.exit(0)
    for ev in conn.receive_data(data):
        if isinstance(ev, h2.events.DataReceived):
            got += len(ev.data)  # never acknowledged: the window stays shut
        if isinstance(ev, h2.events.ConnectionTerminated):
            print('closed %.1f %d' % (time.monotonic() - start, got))
            sys.exit(0)
    out = conn.data_to_send()
    if out:
        sock.sendall(out)
print('open %d' % got)
