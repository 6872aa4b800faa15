# SPDX-License-Identifier: MIT
# network_server's gdb helpers (docs/debugging.md):
#   gdb -x tools/gdb/ns.gdb --args build/dev/src/bin/ns_serve --port 8443   then: nsdebug
#   gdb -batch -p PID -x tools/gdb/ns.gdb -ex ns-loops -ex ns-connections
# Commands: nsdebug, ns-loops, ns-connections; pretty-printers for transport, output_queue and
# io::slot_map (the live slots). The Python lives next to this file.
python
import os
import sys


def _ns_gdb_dir():
    # A gdb script is not told its own path: find it among gdb's arguments (-x FILE,
    # --command=FILE); failing that, NS_GDB_DIR or tools/gdb below the current directory.
    with open("/proc/self/cmdline", "rb") as f:
        argv = [a.decode(errors="replace") for a in f.read().split(b"\0")]
    for a in argv[1:]:
        path = a.split("=", 1)[-1]
        if os.path.basename(path) == "ns.gdb" and os.path.exists(path):
            return os.path.dirname(os.path.abspath(path))
    return os.environ.get("NS_GDB_DIR", os.path.abspath("tools/gdb"))


_d = _ns_gdb_dir()
if _d not in sys.path:
    sys.path.insert(0, _d)
sys.dont_write_bytecode = True  # no __pycache__ in the source tree
import ns_printers
import ns_commands

ns_printers.register()
ns_commands.register()
end
