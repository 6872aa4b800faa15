# SPDX-License-Identifier: MIT
"""Load generators for ns_serve (issue 10): python3 standard library only.

Modules: server (start/measure/stop ns_serve), conn (asyncio TLS client over memory BIOs with
full control of every byte, so a client can reset at any point), proto (HTTP/WebSocket wire
helpers), probe (the fresh client measuring latency), and one module per scenario.
"""
