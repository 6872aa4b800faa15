# SPDX-License-Identifier: MIT
"""network_server for gdb: reading the library's state, and pretty-printers.

The state is read from memory, not by calling into the program (the one exception asks OpenSSL
for a protocol version; see _call_str), so listing leaves the process as it was. The std::
members are read through the layouts libstdc++ and libc++ share (std::unique_ptr with an empty
deleter is the pointer, std::optional<T> is T's storage followed by its engaged flag,
std::vector begins with its begin and end pointers); std::string through libstdc++'s members.
Needs the debug information of the program (the dev preset builds with -g; release does not).
"""

import gdb
import gdb.printing

_PTR = None


def _ptr_type():
    global _PTR
    if _PTR is None:
        _PTR = gdb.lookup_type("char").pointer()
    return _PTR


def _word_at(addr, type_):
    """The value of type_ stored at address addr."""
    return gdb.Value(int(addr)).cast(type_.pointer()).dereference()


def unique_ptr_get(v):
    """The pointer held by std::unique_ptr<T> (empty deleter: the pointer is its only member)."""
    t = v.type.strip_typedefs().template_argument(0)
    return _word_at(v.address, t.pointer())


def optional_get(v):
    """The value held by std::optional<T>, or None when it is empty."""
    t = v.type.strip_typedefs().template_argument(0)
    engaged = _word_at(int(v.address) + t.sizeof, gdb.lookup_type("bool"))
    return _word_at(v.address, t) if bool(engaged) else None


def vector_items(v):
    """(address of the first element, count, element type) of std::vector<T>."""
    t = v.type.strip_typedefs().template_argument(0)
    begin = int(_word_at(v.address, _ptr_type()))
    end = int(_word_at(int(v.address) + _ptr_type().sizeof, _ptr_type()))
    return begin, (end - begin) // t.sizeof if t.sizeof else 0, t


def std_string(v):
    try:
        p = v["_M_dataplus"]["_M_p"]
        n = int(v["_M_string_length"])
        return p.string(length=n) if n else ""
    except gdb.error:
        return str(v)  # another standard library: its own printer, if loaded


def enum_name(v):
    """'idle' for ns::server::http1_handler::phase::idle."""
    return str(v).rsplit("::", 1)[-1]


# ---- transports ---------------------------------------------------------------------------

PROTOCOLS = {
    "ns::server::http1_handler": "http1",
    "ns::server::ws_handler": "websocket",
    "ns::server::raw_handler": "raw",
    "ns::server::event_handler": "eventfd",
}


def handler_of(t):
    """(protocol, phase) of a transport's handler; phase '-' when the protocol has none."""
    p = unique_ptr_get(t["handler"])
    if int(p) == 0:
        return "none", "-"
    dyn = p.dynamic_type
    name = dyn.target().strip_typedefs().name or str(dyn.target())
    proto = PROTOCOLS.get(name, name)
    try:
        phase = enum_name(p.cast(dyn).dereference()["phase_"])
    except gdb.error:
        phase = "-"
    return proto, phase


def _call_str(fn, arg):
    """Asks OpenSSL, in a live process (None on a core file or when the call fails). The call
    runs on the selected thread alone, and a fault inside it is undone, not left pending."""
    saved = {p: gdb.parameter(p) for p in ("unwindonsignal", "scheduler-locking")}
    try:
        gdb.execute("set unwindonsignal on", to_string=True)
        gdb.execute("set scheduler-locking on", to_string=True)
        return gdb.parse_and_eval("((const char*(*)(const void*))%s)((const void*)%d)"
                                  % (fn, int(arg))).string()
    except (gdb.error, RuntimeError):
        return None
    finally:
        gdb.execute("set unwindonsignal %s" % ("on" if saved["unwindonsignal"] else "off"),
                    to_string=True)
        gdb.execute("set scheduler-locking %s" % saved["scheduler-locking"], to_string=True)


def tls_state(t):
    """'plain', 'handshaking', 'own TLSv1.3 <cipher>' (our record layer) or 'OpenSSL <ver>'."""
    s = optional_get(t["tls"])
    if s is None:
        return "plain"
    if not bool(t["ready"]):
        return "handshaking"
    if int(unique_ptr_get(s["fast_"])) != 0:
        facts = s["facts_"]
        return "own %s %s" % (facts["version"].string(), facts["cipher"].string())
    ssl = unique_ptr_get(s["ssl_"])
    version = _call_str("SSL_get_version", ssl) if int(ssl) else None
    return "OpenSSL %s" % version if version else "OpenSSL"


def queued_bytes(out):
    """output_queue::queued(): bytes queued but not yet confirmed sent."""
    return int(out["sending_size_"]) - int(out["sent_off_"]) + int(out["filling_used_"])


def close_state(t):
    if bool(t["closing"]):
        return "closing"
    if bool(t["close_after_flush"]):
        return "draining"
    return "open"


def live_slots(slot_map):
    """(index, handle, transport value) of every occupied slot of an io::slot_map<T>."""
    begin, count, slot_t = vector_items(slot_map["slots_"])
    if count == 0:
        return []
    value_t = slot_t.fields()[0].type.strip_typedefs()  # std::optional<T>
    inner = value_t.template_argument(0)
    engaged_off = [f.bitpos // 8 for f in slot_t.fields() if f.name == "value"][0] + inner.sizeof
    gen_off = [f.bitpos // 8 for f in slot_t.fields() if f.name == "generation"][0]
    # One read for the whole array: a loop has max_connections slots (10,000 by default).
    mem = bytes(gdb.selected_inferior().read_memory(begin, count * slot_t.sizeof))
    out = []
    for i in range(count):
        base = i * slot_t.sizeof
        if mem[base + engaged_off] == 0:
            continue
        gen = int.from_bytes(mem[base + gen_off : base + gen_off + 4], "little")
        value = _word_at(begin + base, inner)
        out.append((i, (gen << 32) | i, value))
    return out


def loops():
    """The live network_server loops: (entry, impl) from ns::server::debug_loops."""
    sym = gdb.lookup_global_symbol("ns::server::debug_loops")
    if sym is None:
        raise gdb.GdbError("no ns::server::debug_loops: not a network_server program, or "
                           "built without debug information")
    out = []
    e = sym.value()
    while int(e) != 0:
        out.append((e.dereference(), e["loop"].dereference()))
        e = e["next"]
    return list(reversed(out))  # oldest (thread 0 of ns_serve) first


# ---- pretty-printers ----------------------------------------------------------------------


class TransportPrinter:
    def __init__(self, v):
        self.v = v

    def to_string(self):
        proto, phase = handler_of(self.v)
        return "transport fd=%d %s phase=%s tls=%s queued=%d %s" % (
            int(self.v["fd"]), proto, phase, tls_state(self.v), queued_bytes(self.v["out"]),
            close_state(self.v))


class OutputQueuePrinter:
    def __init__(self, v):
        self.v = v

    def to_string(self):
        cap = 0
        for b in ("sending_", "filling_"):
            cap += int(self.v[b]["capacity"])
        return "output_queue queued=%d capacity=%d" % (queued_bytes(self.v), cap)


class SlotMapPrinter:
    def __init__(self, v):
        self.v = v

    def to_string(self):
        _, count, _ = vector_items(self.v["slots_"])
        _, free, _ = vector_items(self.v["free_"])
        return "slot_map %d live of %d" % (count - free, count)

    def children(self):
        for index, handle, value in live_slots(self.v):
            yield "[%d] handle 0x%x" % (index, handle), value

    def display_hint(self):
        return None


def build_printers():
    pp = gdb.printing.RegexpCollectionPrettyPrinter("network_server")
    pp.add_printer("transport", "^ns::server::transport$", TransportPrinter)
    pp.add_printer("output_queue", "^ns::server::output_queue$", OutputQueuePrinter)
    pp.add_printer("slot_map", "^ns::io::slot_map<.*>$", SlotMapPrinter)
    return pp


def register(objfile=None):
    gdb.printing.register_pretty_printer(objfile, build_printers(), replace=True)
