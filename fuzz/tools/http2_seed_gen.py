#!/usr/bin/python3
# SPDX-License-Identifier: MIT
# Writes the seeds of fuzz/corpus/http2_session/ with Debian's python3-h2 (a real client's
# frames): byte 0 is the chunk size, byte 1 the harness options, then the frames that follow the
# client preface and SETTINGS (the harness supplies those itself).
# Run from the repository root: /usr/bin/python3 fuzz/tools/http2_seed_gen.py
import os

import h2.config
import h2.connection
import h2.settings

OUT = 'fuzz/corpus/http2_session'


def frames(build):
    c = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True))
    c.initiate_connection()
    c.data_to_send()  # preface + client SETTINGS: not part of the seed
    build(c)
    return c.data_to_send()


def head(path, extra=()):
    return [(':method', 'GET'), (':scheme', 'https'), (':authority', 'localhost'),
            (':path', path), *extra]


def get(c):
    c.send_headers(1, head('/index.html'), end_stream=True)


def post(c):
    c.send_headers(1, [(':method', 'POST'), (':scheme', 'https'), (':authority', 'localhost'),
                       (':path', '/up'), ('content-length', '11')])
    c.send_data(1, b'hello world', end_stream=True)


def many(c):
    for i in range(1, 12, 2):
        c.send_headers(i, head('/' + str(i), [('x-k', 'v' * i)]), end_stream=True)


def reset(c):
    get(c)
    c.reset_stream(1)
    c.send_headers(3, head('/r'), end_stream=True)


def ping_window(c):
    c.ping(b'12345678')
    c.increment_flow_control_window(1000)
    c.update_settings({h2.settings.SettingCodes.INITIAL_WINDOW_SIZE: 10})
    get(c)


def connect(c):
    c.send_headers(1, [(':method', 'CONNECT'), (':protocol', 'websocket'), (':scheme', 'https'),
                       (':authority', 'a'), (':path', '/chat')])
    c.send_data(1, b'\x81\x85abcdefghi')


def goaway(c):
    get(c)
    c.close_connection()


SEEDS = [('get', get, 3), ('post', post, 1), ('many', many, 3), ('reset', reset, 1),
         ('ping_window', ping_window, 3), ('connect', connect, 1), ('goaway', goaway, 3)]

os.makedirs(OUT, exist_ok=True)
for name, fn, options in SEEDS:
    b = frames(fn)
    with open(os.path.join(OUT, name), 'wb') as f:
        f.write(bytes([255, options]) + b)
    with open(os.path.join(OUT, name + '_small_chunks'), 'wb') as f:
        f.write(bytes([6, options | 4]) + b)
