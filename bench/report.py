#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Turns bench/run.sh's raw JSON lines into the medians table (printed) and results.json."""
import json
import statistics
import sys

# scenario -> (target ratio ours/peer on the key figure, absolute target note)
TARGETS = {
    'https_1k_keepalive': (0.45, ''),
    'https_64k': (0.8, ''),
    'https_10m': (0.8, '>= 1.2 GB/s per server core'),
    'https_new_conn': (1.0, ''),
    'wss_echo_64': (0.4, ''),
    'wss_echo_16k': (0.65, ''),
    'wss_deflate_64': (0.2, ''),
    'wss_deflate_16k': (0.9, ''),
    'wss_storm': (None, ''),
    'wss_broadcast_1000': (None, ''),
    'idle_tls': (None, '<= 16 KiB/conn'),
    'idle_wss': (None, '<= 24 KiB/conn'),
    'idle_wss_deflate': (None, ''),
    'idle_wss_deflate_nct': (None, '<= 64 KiB/conn (shared compressor)'),
}
FIELDS = ['server_us_per_op', 'rate', 'mb_per_s', 'p50_us', 'p99_us', 'server_cpu_pct',
          'client_cpu_pct', 'rss_per_conn_bytes', 'errors']


def median(rows, field):
    vals = [r[field] for r in rows if isinstance(r.get(field), (int, float))]
    return statistics.median(vals) if vals else None


def main():
    raw, dest = sys.argv[1], sys.argv[2]
    quick = '--quick' in sys.argv[3:]
    rows = [json.loads(line) for line in open(raw) if line.strip()]
    order, groups = [], {}
    for r in rows:
        key = (r['scenario'], r['server'])
        if r['scenario'] not in order:
            order.append(r['scenario'])
        groups.setdefault(key, []).append(r)
    results = []
    for sc in order:
        servers = [s for (name, s) in groups if name == sc]
        ours = 'ns'
        peer = next((s for s in servers if s != ours), None)
        entry = {'scenario': sc, 'peer_server': peer, 'runs': len(groups.get((sc, ours), []))}
        for who, s in (('ours', ours), ('peer', peer)):
            rs = groups.get((sc, s), [])
            entry[who] = {f: median(rs, f) for f in FIELDS}
            entry[who]['failures'] = [r.get('error') or r.get('first_error') for r in rs
                                      if r.get('error') or r.get('errors')]
        key = 'rss_per_conn_bytes' if sc.startswith('idle') else 'server_us_per_op'
        o, p = entry['ours'][key], entry['peer'][key]
        entry['key'] = key
        entry['ratio'] = (o / p) if (o is not None and p) else None
        target, note = TARGETS.get(sc, (None, ''))
        entry['target_ratio'], entry['target_note'] = target, note
        if target is not None and entry['ratio'] is not None:
            entry['target_met'] = entry['ratio'] <= target
        if sc == 'https_10m':
            for who in ('ours', 'peer'):
                d = entry[who]
                if d['mb_per_s'] and d['server_cpu_pct']:
                    d['gb_per_s_per_core'] = d['mb_per_s'] / (d['server_cpu_pct'] / 100) / 1000
        results.append(entry)
    with open(dest, 'w') as f:
        json.dump({'quick': quick, 'results': results}, f, indent=1)

    def fmt(v, spec='.1f'):
        return '-' if v is None else format(v, spec)

    head = (f"{'scenario':22} {'peer':12} {'key figure':>10} {'ours':>9} {'peer':>9} {'ratio':>6} "
            f"{'target':>7} {'rate ours':>10} {'rate peer':>10} {'p50/p99 ours us':>16} "
            f"{'p50/p99 peer us':>16} {'srv%o':>6} {'srv%p':>6} {'cli%o':>6} {'cli%p':>6}")
    print(('QUICK RUN - do not quote these figures\n' if quick else '') + head)
    print('-' * len(head))
    for e in results:
        o, p = e['ours'], e['peer']
        idle = e['key'] == 'rss_per_conn_bytes'
        unit = 'B/conn' if idle else 'us/op'
        tgt = fmt(e['target_ratio'], '.2f') if e['target_ratio'] is not None else ''
        if e.get('target_met') is False:
            tgt += '!'
        print(f"{e['scenario']:22} {str(e['peer_server']):12} {unit:>10} {fmt(o[e['key']], '.2f' if not idle else '.0f'):>9} "
              f"{fmt(p[e['key']], '.2f' if not idle else '.0f'):>9} {fmt(e['ratio'], '.2f'):>6} {tgt:>7} "
              f"{fmt(o['rate'], '.0f'):>10} {fmt(p['rate'], '.0f'):>10} "
              f"{fmt(o['p50_us'], '.0f') + '/' + fmt(o['p99_us'], '.0f'):>16} "
              f"{fmt(p['p50_us'], '.0f') + '/' + fmt(p['p99_us'], '.0f'):>16} "
              f"{fmt(o['server_cpu_pct'], '.0f'):>6} {fmt(p['server_cpu_pct'], '.0f'):>6} "
              f"{fmt(o['client_cpu_pct'], '.0f'):>6} {fmt(p['client_cpu_pct'], '.0f'):>6}")
        extra = []
        if e['scenario'] == 'https_10m':
            extra.append(f"MB/s ours {fmt(o['mb_per_s'])} peer {fmt(p['mb_per_s'])}; GB/s per server "
                         f"core ours {fmt(o.get('gb_per_s_per_core'), '.2f')} peer "
                         f"{fmt(p.get('gb_per_s_per_core'), '.2f')}")
        for who in ('ours', 'peer'):
            if e[who]['failures']:
                extra.append(f"{who} errors: {e[who]['failures'][:2]}")
        if e['target_note']:
            extra.append('target: ' + e['target_note'])
        for x in extra:
            print(' ' * 24 + x)
    print(f"\nratio = ours/peer of the key figure (server CPU us per operation; idle: server RSS "
          f"growth per connection); '!' = target missed. JSON: {dest}")


if __name__ == '__main__':
    main()
