#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Turns bench/run.sh's raw JSON lines into the medians table (printed) and results.json.

Every run is judged first (run_problems): a run that erred, made no operation, lost its server
or missed its scenario's precondition is invalid. Invalid runs are named, never enter a median,
and fail their scenario; so does a scenario with no valid run of either server, or with fewer
runs than asked. A failed scenario shows FAILED instead of a ratio, and the exit status is 1.
usage: report.py RAW.jsonl RESULTS.json [--runs N] [--only REGEX] [--quick]
"""
import argparse
import json
import re
import statistics
import sys

OURS = 'ns'
# scenario -> (target ratio ours/peer on the key figure, absolute target note, needs deflate)
SCENARIOS = {
    'https_1k_keepalive': (0.45, '', False),
    'https_64k': (0.8, '', False),
    'https_10m': (0.8, '>= 1.2 GB/s per server core', False),
    'https_new_conn': (1.0, '', False),
    'wss_echo_64': (0.4, '', False),
    'wss_echo_16k': (0.65, '', False),
    'wss_deflate_64': (0.2, '', True),
    'wss_deflate_16k': (0.9, '', True),
    'wss_storm': (None, '', False),
    'wss_broadcast_1000': (None, '', False),
    'idle_tls': (None, '<= 16 KiB/conn', False),
    'idle_wss': (None, '<= 24 KiB/conn', False),
    'idle_wss_deflate': (None, '', True),
    'idle_wss_deflate_nct': (None, '<= 64 KiB/conn (shared compressor)', True),
    'cluster_fanout': (0.25, '', False),
}
# scenario -> (field, target ratio ours/peer): a second target, on the medians of that field.
LATENCY_TARGETS = {'cluster_fanout': ('p99_us', 0.5)}
FIELDS = ['server_us_per_op', 'rate', 'mb_per_s', 'p50_us', 'p99_us', 'server_cpu_pct',
          'client_cpu_pct', 'rss_per_conn_bytes', 'errors', 'max_us', 'redis_us_per_op',
          'losses', 'published']


def key_field(scenario):
    return 'rss_per_conn_bytes' if scenario.startswith('idle') else 'server_us_per_op'


def positive(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool) and v > 0


def run_problems(r):
    """Why run record r cannot stand for its scenario ([] when it can)."""
    sc = r.get('scenario', '')
    p = []
    if r.get('error'):
        p.append(str(r['error']))
    status = r.get('exit_status')
    if status is None and not r.get('error'):
        p.append('load tool exit status not recorded')
    elif status not in (None, 0):
        p.append(f'load tool exited {status}')
    if status is not None and r.get('server_alive') is not True:
        p.append(f"server {r.get('server')} was gone after the run")
    if r.get('error'):
        return p  # nothing else was measured
    if r.get('errors') != 0:
        first = r.get('first_error')
        p.append(f"{r.get('errors', 'unknown number of')} errors"
                 + (f' (first: {first})' if first else ''))
    key = key_field(sc)
    if key == 'server_us_per_op' and not positive(r.get('ops')):
        p.append(f"zero operations (ops {r.get('ops')})")
    if not positive(r.get(key)):
        p.append(f'no {key} figure ({r.get(key)})')
    needs_deflate = SCENARIOS.get(sc, (None, '', False))[2] or r.get('deflate') is True
    if needs_deflate and r.get('deflate_agreed') is not True:
        p.append('permessage-deflate was not agreed')
    if r.get('mode') == 'fanout' or str(sc).startswith('cluster_'):
        p.extend(fanout_problems(r))
    # wrk counts connect errors as errors; wsload says how many of its connections held
    # (a storm's churn by design).
    if 'mode' in r and r['mode'] != 'storm':
        want, got = r.get('conns_wanted'), r.get('conns_open')
        if not isinstance(want, int) or not isinstance(got, int):
            p.append('connection counts not recorded')
        elif got < want:
            p.append(f'only {got} of {want} connections open')
    return p


def fanout_problems(r):
    """A fan-out run holds only if every member got every message published while measuring."""
    p = []
    if r.get('mode') != 'fanout':
        p.append(f"measured by wsload mode {r.get('mode')}, not fanout")
    losses = r.get('losses')
    if not isinstance(losses, int) or isinstance(losses, bool):
        p.append('losses not recorded')
    elif losses > 0:
        p.append(f'{losses} deliveries lost (a member missed a message)')
    if not positive(r.get('published')):
        p.append(f"nothing published (published {r.get('published')})")
    elif r.get('expected') != r.get('ops'):
        p.append(f"{r.get('ops')} of {r.get('expected')} deliveries made")
    if not positive(r.get('p99_us')):
        p.append(f"no publish-to-receive latency ({r.get('p99_us')})")
    return p


def median(rows, field):
    vals = [r[field] for r in rows
            if isinstance(r.get(field), (int, float)) and not isinstance(r.get(field), bool)]
    return statistics.median(vals) if vals else None


def judge(rows, runs, only):
    """Groups the records by scenario and judges each: a list of result entries."""
    order = [s for s in SCENARIOS if re.search(only, s)]  # expected, in run.sh's order
    for r in rows:
        if r.get('scenario') not in order:
            order.append(r.get('scenario'))
    results = []
    for sc in order:
        mine = [r for r in rows if r.get('scenario') == sc]
        peers = ({r['peer'] for r in mine if r.get('peer')} |
                 {r['server'] for r in mine if r.get('server') not in (None, OURS)})
        peer = min(peers) if peers else None
        entry = {'scenario': sc, 'peer_server': peer, 'problems': [], 'invalid_runs': []}
        if len(peers) > 1:
            entry['problems'].append(f'more than one peer: {sorted(peers)}')
        if not mine:
            entry['problems'].append('no run recorded')
        elif peer is None:
            entry['problems'].append('no peer server recorded')
        for who, s in (('ours', OURS), ('peer', peer)):
            rs = [r for r in mine if r.get('server') == s] if s else []
            valid = []
            for r in rs:
                why = run_problems(r)
                if why:
                    entry['invalid_runs'].append({'server': s, 'run': r.get('run'), 'why': why})
                else:
                    valid.append(r)
            if mine and s and not rs:
                entry['problems'].append(f'{s}: no run recorded')
            elif runs is not None and rs and len(rs) != runs:
                entry['problems'].append(f'{s}: {len(rs)} runs recorded, {runs} asked')
            if rs and not valid:
                entry['problems'].append(f'{s}: no valid run')
            entry[who] = {f: median(valid, f) for f in FIELDS}
            entry[who]['valid_runs'] = len(valid)
        if entry['invalid_runs']:
            entry['problems'].append(f"{len(entry['invalid_runs'])} invalid run(s)")
        entry['status'] = 'failed' if entry['problems'] else 'ok'
        key = key_field(sc)
        o, p = entry['ours'][key], entry['peer'][key]
        entry['key'] = key
        # A ratio of a failed scenario would read as a result; there is none.
        entry['ratio'] = o / p if entry['status'] == 'ok' and o is not None and p else None
        target, note, _ = SCENARIOS.get(sc, (None, '', False))
        entry['target_ratio'], entry['target_note'] = target, note
        if target is not None and entry['ratio'] is not None:
            entry['target_met'] = entry['ratio'] <= target
        if sc in LATENCY_TARGETS:
            field, limit = LATENCY_TARGETS[sc]
            lo, lp = entry['ours'][field], entry['peer'][field]
            entry['latency_field'], entry['latency_target'] = field, limit
            entry['latency_ratio'] = lo / lp if entry['status'] == 'ok' and lo and lp else None
            if entry['latency_ratio'] is not None:
                entry['latency_target_met'] = entry['latency_ratio'] <= limit
        if sc == 'https_10m':
            for who in ('ours', 'peer'):
                d = entry[who]
                if d['mb_per_s'] and d['server_cpu_pct']:
                    d['gb_per_s_per_core'] = d['mb_per_s'] / (d['server_cpu_pct'] / 100) / 1000
        results.append(entry)
    return results


def fmt(v, spec='.1f'):
    return '-' if v is None else format(v, spec)


def print_table(results, quick, dest):
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
        ratio = 'FAILED' if e['status'] == 'failed' else fmt(e['ratio'], '.2f')
        print(f"{str(e['scenario']):22} {str(e['peer_server']):12} {unit:>10} "
              f"{fmt(o[e['key']], '.2f' if not idle else '.0f'):>9} "
              f"{fmt(p[e['key']], '.2f' if not idle else '.0f'):>9} {ratio:>6} {tgt:>7} "
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
        if 'latency_target' in e:
            lat = {w: '/'.join(fmt(e[w][f], '.0f') for f in ('p50_us', 'p99_us', 'max_us'))
                   for w in ('ours', 'peer')}
            miss = '!' if e.get('latency_target_met') is False else ''
            extra.append(f"latency p50/p99/max us ours {lat['ours']} peer {lat['peer']}; "
                         f"{e['latency_field']} ratio {fmt(e['latency_ratio'], '.2f')} "
                         f"(target {e['latency_target']:.2f}{miss}); redis us per delivery ours "
                         f"{fmt(e['ours']['redis_us_per_op'], '.3f')} peer "
                         f"{fmt(e['peer']['redis_us_per_op'], '.3f')}")
        if e['target_note']:
            extra.append('target: ' + e['target_note'])
        for x in extra:
            print(' ' * 24 + x)
    print(f"\nratio = ours/peer of the key figure (server CPU us per operation; idle: server RSS "
          f"growth per connection) over valid runs only; '!' = target missed; FAILED = a run was "
          f"invalid or missing (listed below), no ratio. JSON: {dest}")
    failed = [e for e in results if e['status'] == 'failed']
    if failed:
        print(f'\nFAILED scenarios ({len(failed)}):')
    for e in failed:
        print(f"  {e['scenario']}: {'; '.join(e['problems'])}")
        for bad in e['invalid_runs']:
            print(f"    invalid: {e['scenario']} {bad['server']} run {bad['run']}: "
                  f"{'; '.join(bad['why'])}")
    return failed


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('raw')
    ap.add_argument('dest')
    ap.add_argument('--runs', type=int, help='runs asked per scenario and server')
    ap.add_argument('--only', default='.', help="run.sh's --only: the scenarios expected")
    ap.add_argument('--quick', action='store_true')
    a = ap.parse_args(argv)
    rows, unreadable = [], []
    with open(a.raw) as f:
        for n, line in enumerate(f, 1):
            try:
                if line.strip():
                    rows.append(json.loads(line))
            except ValueError:
                unreadable.append(n)
    results = judge(rows, a.runs, a.only)
    with open(a.dest, 'w') as f:
        json.dump({'quick': a.quick, 'results': results, 'unreadable_lines': unreadable}, f,
                  indent=1)
    failed = [str(e['scenario']) for e in print_table(results, a.quick, a.dest)]
    if unreadable:
        print(f'\n{a.raw}: lines {unreadable} are not JSON')
        failed.append('(unreadable raw lines)')
    if failed:
        print(f"report.py: {len(failed)} scenario(s) failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
