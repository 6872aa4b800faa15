#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""A real browser against ns_serve: headless Chromium, driven over the DevTools protocol.

Loads https://127.0.0.1:PORT/ (the demo index) from ns_serve with two threads, opens the chat
page in two tabs of the default room and a third in another room (?room=other), sends a message
in one and waits for it to arrive in the other over WSS (/ws/chat?room=…, a topic spanning both
threads, permessage-deflate negotiated by the browser) but not in the other room, runs the echo
page's self-test, and saves screenshots under OUT_DIR. Exit 0: passed; 77: skipped (no chromium
or no python websockets); else failed.

usage: chat_browser_test.py NS_SERVE SOURCE_DIR OUT_DIR
"""
import asyncio
import base64
import json
import os
import re
import shutil
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.request

SKIP = 77


def skip(why):
    print(f"SKIP: {why}")
    sys.exit(SKIP)


try:
    import websockets  # Debian: python3-websockets (ci/install-deps.sh)
except ImportError:
    skip("python3 module 'websockets' is not installed (apt-get install python3-websockets)")


def expect(ok, what):
    """A check that holds under python -O too (an assert statement would be stripped)."""
    if not ok:
        raise AssertionError(what)


def find_chromium():
    for name in (os.environ.get("NS_CHROMIUM"), "chromium", "chromium-browser", "google-chrome"):
        if name and shutil.which(name):
            return shutil.which(name)
    return None


class Cdp:
    """Minimal DevTools client: one browser connection, flat sessions per tab."""

    def __init__(self, ws):
        self.ws = ws
        self.next_id = 0
        self.pending = {}
        self.reader = asyncio.create_task(self._read())

    async def _read(self):
        async for raw in self.ws:
            msg = json.loads(raw)
            fut = self.pending.pop(msg.get("id"), None)
            if fut and not fut.done():
                fut.set_result(msg)

    async def call(self, method, params=None, session=None, timeout=20):
        self.next_id += 1
        msg = {"id": self.next_id, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        fut = asyncio.get_running_loop().create_future()
        self.pending[self.next_id] = fut
        await self.ws.send(json.dumps(msg))
        reply = await asyncio.wait_for(fut, timeout)
        if "error" in reply:
            raise RuntimeError(f"{method}: {reply['error']}")
        return reply.get("result", {})

    async def new_tab(self, url):
        target = await self.call("Target.createTarget", {"url": "about:blank"})
        att = await self.call("Target.attachToTarget",
                              {"targetId": target["targetId"], "flatten": True})
        session = att["sessionId"]
        await self.call("Page.enable", session=session)
        await self.call("Runtime.enable", session=session)
        await self.call("Page.navigate", {"url": url}, session=session)
        return session

    async def eval(self, session, expr):
        r = await self.call("Runtime.evaluate",
                            {"expression": expr, "returnByValue": True, "awaitPromise": True},
                            session=session)
        if "exceptionDetails" in r:
            raise RuntimeError(f"{expr}: {r['exceptionDetails']}")
        return r["result"].get("value")

    async def wait_for(self, session, expr, what, timeout=20):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if await self.eval(session, expr):
                    return
            except RuntimeError:
                pass  # page still loading
            await asyncio.sleep(0.1)
        raise AssertionError(f"timed out waiting for {what} ({expr})")

    async def screenshot(self, session, path):
        r = await self.call("Page.captureScreenshot", {"format": "png"}, session=session)
        with open(path, "wb") as f:
            f.write(base64.b64decode(r["data"]))
        print(f"screenshot: {path}")


async def drive(devtools_url, base, out_dir):
    async with websockets.connect(devtools_url, max_size=64 * 1024 * 1024) as ws:
        cdp = Cdp(ws)
        # 1. The index page, over HTTPS.
        home = await cdp.new_tab(base + "/")
        await cdp.wait_for(home, "document.readyState === 'complete' && "
                           "document.getElementById('scheme').textContent === 'secure (TLS)'",
                           "the index page")
        title = await cdp.eval(home, "document.title")
        expect(title == "network_server works", f"index title: {title!r}")
        await cdp.screenshot(home, os.path.join(out_dir, "index.png"))
        # 2. The chat page in two tabs (the first reached through the index's link).
        await cdp.eval(home, "document.getElementById('chat-link').click()")
        tab1 = home
        tab2 = await cdp.new_tab(base + "/chat.html")
        other = await cdp.new_tab(base + "/chat.html?room=other")
        for tab in (tab1, tab2, other):
            await cdp.wait_for(tab, "document.body && document.body.dataset.state === 'open'",
                               "the chat WebSocket to open")
        ext = await cdp.eval(tab1, "document.getElementById('state').textContent")
        print(f"chat tab 1: {ext}")
        expect("permessage-deflate" in ext, f"permessage-deflate not negotiated: {ext}")
        for tab, room in ((tab1, "#lobby"), (other, "#other")):
            shown = await cdp.eval(tab, "document.getElementById('room-name').textContent")
            expect(shown == room, f"room shown: {shown!r}, expected {room!r}")
        # 3. A message typed in tab 1 arrives in tab 2.
        message = "hello from tab 1 \u2713"
        await cdp.eval(tab1, "document.getElementById('name').value = 'alice';"
                       f"document.getElementById('text').value = {json.dumps(message)};"
                       "document.getElementById('send').requestSubmit(); true")
        await cdp.wait_for(tab2, "document.getElementById('log').textContent.includes("
                           + json.dumps("alice: " + message) + ")",
                           "the message to arrive in tab 2")
        await cdp.eval(tab2, "document.getElementById('name').value = 'bob';"
                       "document.getElementById('text').value = 'hi alice';"
                       "document.getElementById('send').requestSubmit(); true")
        await cdp.wait_for(tab1, "document.getElementById('log').textContent.includes("
                           "'bob: hi alice')", "the reply to arrive in tab 1")
        # 3b. The other room hears its own messages only.
        await cdp.eval(other, "document.getElementById('name').value = 'carol';"
                       "document.getElementById('text').value = 'anyone here?';"
                       "document.getElementById('send').requestSubmit(); true")
        await cdp.wait_for(other, "document.getElementById('log').textContent.includes("
                           "'carol: anyone here?')", "carol's message in her own room")
        other_log = await cdp.eval(other, "document.getElementById('log').textContent")
        expect("alice" not in other_log and "bob" not in other_log,
               f"the other room saw the lobby: {other_log!r}")
        for tab in (tab1, tab2):
            lobby_log = await cdp.eval(tab, "document.getElementById('log').textContent")
            expect("carol" not in lobby_log, f"the lobby saw the other room: {lobby_log!r}")
        await cdp.screenshot(other, os.path.join(out_dir, "chat_other_room.png"))
        await cdp.screenshot(tab2, os.path.join(out_dir, "chat_tab2.png"))
        await cdp.screenshot(tab1, os.path.join(out_dir, "chat_tab1.png"))
        # 4. The echo page's self-test (text, 300 KB compressible text, binary).
        echo = await cdp.new_tab(base + "/echo.html")
        await cdp.wait_for(echo, "!document.getElementById('selftest').disabled",
                           "the echo WebSocket to open")
        await cdp.eval(echo, "document.getElementById('selftest').click(); true")
        await cdp.wait_for(echo, "document.getElementById('result').textContent !== ''",
                           "the echo self-test")
        result = await cdp.eval(echo, "document.getElementById('result').textContent")
        await cdp.screenshot(echo, os.path.join(out_dir, "echo.png"))
        expect(result == "self-test passed", result)
        # 5. The server counted it all: /_status sums every thread's counters.
        insecure = ssl.create_default_context()
        insecure.check_hostname = False
        insecure.verify_mode = ssl.CERT_NONE
        with urllib.request.urlopen(base + "/_status", context=insecure, timeout=10) as r:
            status = json.load(r)
        print(f"status: {json.dumps(status)}")
        ws_in, ws_out = status["websocket_messages"]["in"], status["websocket_messages"]["out"]
        # 2 lobby messages (each to both tabs), 1 in the other room + 3 echoes.
        expect(ws_in >= 6 and ws_out >= 8, status)
        topics = status["topics"]
        expect(topics["published"] >= 3 and topics["delivered"] >= 5, status)
        expect(status["tls"]["handshakes"] >= 3 and status["requests"] >= 8, status)
        try:
            await cdp.call("Browser.close", timeout=5)
        except Exception:
            pass
        cdp.reader.cancel()


def main():
    if len(sys.argv) != 4:
        print(__doc__)
        return 2
    ns_serve, source_dir, out_dir = sys.argv[1:]
    chromium = find_chromium()
    if not chromium:
        skip("chromium is not installed (ci/install-deps.sh installs it: apt-get install chromium)")
    os.makedirs(out_dir, exist_ok=True)
    for old in ("access.log", "index.png", "chat_tab1.png", "chat_tab2.png",
                "chat_other_room.png", "echo.png"):
        if os.path.exists(os.path.join(out_dir, old)):
            os.remove(os.path.join(out_dir, old))  # the log is appended to: start afresh
    tmp = tempfile.mkdtemp(prefix="ns_browser_")
    server = browser = None
    try:
        cert, key = os.path.join(tmp, "server.crt"), os.path.join(tmp, "server.key")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                        "ec_paramgen_curve:prime256v1", "-nodes", "-days", "1", "-subj",
                        "/CN=localhost", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
                        "-keyout", key, "-out", cert], check=True, capture_output=True)
        server_log = open(os.path.join(out_dir, "ns_serve.log"), "w")
        # Two loops: a chat room is a topic of the process, whichever loop each tab lands on.
        server = subprocess.Popen(
            [ns_serve, "--port", "0", "--threads", "2", "--root",
             os.path.join(source_dir, "examples", "public"), "--cert", cert, "--key", key,
             "--access-log", os.path.join(out_dir, "access.log"), "--log-level", "info",
             "--status-path", "/_status"],
            stdout=subprocess.PIPE, stderr=server_log, text=True)
        line = server.stdout.readline()
        m = re.search(r"https://127\.0\.0\.1:(\d+)/", line)
        if not m:
            raise AssertionError(f"ns_serve did not start: {line!r}")
        base = f"https://127.0.0.1:{m.group(1)}"
        print(f"ns_serve: {base}")
        browser = subprocess.Popen(
            [chromium, "--headless", "--no-sandbox", "--disable-gpu",
             "--ignore-certificate-errors", "--disable-background-networking",
             "--disable-component-update", "--disable-sync", "--no-first-run",
             "--disable-dev-shm-usage", "--window-size=1000,800",
             f"--user-data-dir={os.path.join(tmp, 'profile')}", "--remote-debugging-port=0",
             "about:blank"],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        devtools = None
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            line = browser.stderr.readline()
            if not line:
                break
            m = re.search(r"DevTools listening on (ws://\S+)", line)
            if m:
                devtools = m.group(1)
                break
        if not devtools:
            raise AssertionError("chromium did not print its DevTools address")
        asyncio.run(asyncio.wait_for(drive(devtools, base, out_dir), 120))
        server.terminate()  # SIGTERM: graceful shutdown, the access log is flushed
        expect(server.wait(15) == 0, "ns_serve did not shut down cleanly")
        with open(os.path.join(out_dir, "access.log")) as f:
            access = f.read()
        expect(access.count('"GET /ws/chat?room=lobby HTTP/1.1" 101 ') == 2, access)
        expect(access.count('"GET /ws/chat?room=other HTTP/1.1" 101 ') == 1, access)
        expect('"GET /ws/echo HTTP/1.1" 101 ' in access, access)
        # The pages come over HTTP/2 (ALPN h2); the WebSockets over HTTP/1.1, since the server
        # does not advertise RFC 8441's extended CONNECT yet.
        expect('"GET /chat.html HTTP/2.0" 200 ' in access, access)
        print("browser test: passed")
        return 0
    finally:
        if browser:
            browser.terminate()
            try:
                browser.wait(10)
            except subprocess.TimeoutExpired:
                browser.kill()
        if server and server.poll() is None:
            server.terminate()  # SIGTERM: graceful shutdown
            try:
                rc = server.wait(15)
                if rc != 0:
                    print(f"ns_serve exited with {rc}")
            except subprocess.TimeoutExpired:
                server.kill()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
