#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Feeds bench/report.py synthetic run records, healthy and broken, and checks that every
broken run is named, kept out of the medians, marks its scenario FAILED and makes the exit
status non-zero. usage: report_test.py [path/to/report.py] (default: the one beside this file)
"""
import json
import os
import subprocess
import sys
import tempfile
import unittest

REPORT = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'report.py')


def https(server, run, us, **kw):
    """One wrk run record as run.sh writes it."""
    r = {'scenario': 'https_1k_keepalive', 'server': server, 'run': run, 'peer': 'nginx',
         'exit_status': 0, 'server_alive': True, 'requests': 5000, 'ops': 5000, 'seconds': 2.0,
         'rate': 2500.0, 'errors': 0, 'server_us_per_op': us}
    r.update(kw)
    return r


def wss(scenario, server, run, us, peer='node_deflate', **kw):
    """One wsload echo run record (deflate offered and agreed)."""
    r = {'scenario': scenario, 'server': server, 'run': run, 'peer': peer, 'exit_status': 0,
         'server_alive': True, 'mode': 'echo', 'deflate': True, 'deflate_agreed': True,
         'conns_wanted': 100, 'conns_open': 100, 'ops': 9000, 'errors': 0, 'first_error': '',
         'server_us_per_op': us}
    r.update(kw)
    return r


def idle(server, run, rss, **kw):
    """One wsload idle run record."""
    r = {'scenario': 'idle_wss', 'server': server, 'run': run, 'peer': 'node', 'exit_status': 0,
         'server_alive': True, 'mode': 'idle', 'deflate': False, 'deflate_agreed': False,
         'conns_wanted': 1000, 'conns_open': 1000, 'errors': 0, 'rss_per_conn_bytes': rss}
    r.update(kw)
    return r


def fanout(server, run, us, p99, **kw):
    """One wsload fanout run record (cluster_fanout: 2 instances, 1,000 + 2 members)."""
    r = {'scenario': 'cluster_fanout', 'server': server, 'run': run, 'peer': 'socketio',
         'exit_status': 0, 'server_alive': True, 'mode': 'fanout', 'deflate': False,
         'conns_wanted': 1002, 'conns_open': 1002, 'published': 200, 'expected': 200400,
         'ops': 200400, 'losses': 0, 'p50_us': p99 / 4, 'p99_us': p99, 'max_us': p99 * 2,
         'errors': 0, 'first_error': '', 'server_us_per_op': us, 'redis_us_per_op': 0.01}
    r.update(kw)
    return r


def healthy():
    rows = []
    for run in (1, 2, 3):
        rows += [https('ns', run, 10.0 + run), https('nginx', run, 20.0 + run),
                 wss('wss_deflate_64', 'ns', run, 5.0 + run),
                 wss('wss_deflate_64', 'node_deflate', run, 50.0 + run),
                 idle('ns', run, 8000 + run), idle('node', run, 40000 + run),
                 fanout('ns', run, 2.0 + run, 1000.0 + run),
                 fanout('socketio', run, 20.0 + run, 10000.0 + run)]
    return rows


ONLY = '^(https_1k_keepalive|wss_deflate_64|idle_wss|cluster_fanout)$'


class ReportTest(unittest.TestCase):
    def report(self, rows, *args):
        with tempfile.TemporaryDirectory() as d:
            raw, dest = os.path.join(d, 'raw.jsonl'), os.path.join(d, 'results.json')
            with open(raw, 'w') as f:
                f.writelines(json.dumps(r) + '\n' for r in rows)
            p = subprocess.run([sys.executable, REPORT, raw, dest, *args], capture_output=True,
                               text=True, timeout=60)
            with open(dest) as f:
                results = {e['scenario']: e for e in json.load(f)['results']}
        return p.returncode, p.stdout, results

    def line_of(self, out, scenario):
        return next(line for line in out.splitlines() if line.startswith(scenario + ' '))

    def assert_invalid(self, rows, scenario, named, why, field, median_of_valid):
        """rows have one bad run: it is named with why, the scenario fails, no ratio, and the
        median (ours, field) is the median of the valid runs only."""
        rc, out, res = self.report(rows, '--runs', '3', '--only', ONLY)
        self.assertNotEqual(rc, 0, out)
        self.assertIn('invalid: ' + named, out)
        self.assertIn(why, out)
        self.assertIn('FAILED', self.line_of(out, scenario))
        self.assertEqual(res[scenario]['status'], 'failed')
        self.assertIsNone(res[scenario]['ratio'])
        self.assertNotIn('target_met', res[scenario])
        self.assertEqual(res[scenario]['ours'][field], median_of_valid)

    def replace(self, rows, scenario, server, run, **kw):
        for r in rows:
            if (r['scenario'], r['server'], r['run']) == (scenario, server, run):
                r.update(kw)
        return rows

    def test_healthy_runs_pass_with_ratios(self):
        rc, out, res = self.report(healthy(), '--runs', '3', '--only', ONLY)
        self.assertEqual(rc, 0, out)
        self.assertNotIn('FAILED scenarios', out)
        for sc in ('https_1k_keepalive', 'wss_deflate_64', 'idle_wss', 'cluster_fanout'):
            self.assertNotIn('FAILED', self.line_of(out, sc))
        self.assertAlmostEqual(res['https_1k_keepalive']['ratio'], 12.0 / 22.0)
        self.assertTrue(res['wss_deflate_64']['target_met'])  # 7/52 <= 0.2
        self.assertAlmostEqual(res['idle_wss']['ratio'], 8002 / 40002)
        self.assertAlmostEqual(res['cluster_fanout']['ratio'], 4.0 / 22.0)
        self.assertTrue(res['cluster_fanout']['target_met'])  # <= 0.25
        self.assertAlmostEqual(res['cluster_fanout']['latency_ratio'], 1002.0 / 10002.0)
        self.assertTrue(res['cluster_fanout']['latency_target_met'])  # <= 0.5

    def test_missed_fanout_targets_are_findings_not_failures(self):
        rows = healthy()
        for r in rows:
            if r['scenario'] == 'cluster_fanout' and r['server'] == 'ns':
                r.update(server_us_per_op=10.0, p99_us=8000.0)
        rc, out, res = self.report(rows, '--runs', '3', '--only', ONLY)
        self.assertEqual(rc, 0, out)
        self.assertFalse(res['cluster_fanout']['target_met'])  # 10/21
        self.assertFalse(res['cluster_fanout']['latency_target_met'])  # 8000/10002
        self.assertIn('0.25!', self.line_of(out, 'cluster_fanout'))
        self.assertIn('(target 0.50!)', out)

    def test_fanout_run_with_losses_is_invalid(self):
        # Open loop: a server that dropped deliveries must not read as a cheap one.
        rows = self.replace(healthy(), 'cluster_fanout', 'ns', 1, losses=1002, ops=199398,
                            server_us_per_op=0.5, exit_status=1)
        self.assert_invalid(rows, 'cluster_fanout', 'cluster_fanout ns run 1',
                            '1002 deliveries lost', 'server_us_per_op', 4.5)

    def test_fanout_deliveries_short_of_expected_are_invalid(self):
        rows = self.replace(healthy(), 'cluster_fanout', 'socketio', 2, ops=200000,
                            server_us_per_op=1.0)
        rc, out, res = self.report(rows, '--runs', '3', '--only', ONLY)
        self.assertNotEqual(rc, 0, out)
        self.assertIn('invalid: cluster_fanout socketio run 2: 200000 of 200400 deliveries made',
                      out)
        self.assertEqual(res['cluster_fanout']['peer']['server_us_per_op'], 22.0)
        self.assertIsNone(res['cluster_fanout']['latency_ratio'])

    def test_fanout_without_losses_figure_or_publishes_is_invalid(self):
        rows = self.replace(healthy(), 'cluster_fanout', 'ns', 2, published=0, expected=0,
                            ops=0, server_us_per_op=None, p99_us=0)
        rows = self.replace(rows, 'cluster_fanout', 'ns', 3, server_us_per_op=0.1)
        next(r for r in rows if r['scenario'] == 'cluster_fanout' and r['run'] == 3
             and r['server'] == 'ns').pop('losses')
        rc, out, res = self.report(rows, '--runs', '3', '--only', ONLY)
        self.assertNotEqual(rc, 0, out)
        self.assertIn('cluster_fanout ns run 2: zero operations', out)
        self.assertIn('nothing published', out)
        self.assertIn('no publish-to-receive latency', out)
        self.assertIn('invalid: cluster_fanout ns run 3: losses not recorded', out)
        self.assertEqual(res['cluster_fanout']['ours']['server_us_per_op'], 3.0)

    def test_fanout_member_not_connected_is_invalid(self):
        rows = self.replace(healthy(), 'cluster_fanout', 'ns', 3, conns_open=1001,
                            server_us_per_op=0.1)
        self.assert_invalid(rows, 'cluster_fanout', 'cluster_fanout ns run 3',
                            'only 1001 of 1002 connections open', 'server_us_per_op', 3.5)

    def test_fanout_cluster_that_did_not_start_fails(self):
        rows = [r for r in healthy() if not (r['scenario'] == 'cluster_fanout' and
                                             r['server'] == 'socketio')]
        rows += [{'scenario': 'cluster_fanout', 'server': 'socketio', 'run': run,
                  'peer': 'socketio', 'error': 'redis-server did not start on 40000',
                  'exit_status': None, 'server_alive': False} for run in (1, 2, 3)]
        rc, out, res = self.report(rows, '--runs', '3', '--only', ONLY)
        self.assertNotEqual(rc, 0, out)
        self.assertIn('invalid: cluster_fanout socketio run 1: redis-server did not start', out)
        self.assertIn('socketio: no valid run', out)
        self.assertIsNone(res['cluster_fanout']['ratio'])

    def test_zero_operation_run_is_invalid(self):
        # What the old run.sh recorded for a run with no request: 0 us per operation.
        rows = self.replace(healthy(), 'https_1k_keepalive', 'ns', 1, requests=0, ops=0,
                            server_us_per_op=0)
        self.assert_invalid(rows, 'https_1k_keepalive', 'https_1k_keepalive ns run 1',
                            'zero operations', 'server_us_per_op', 12.5)

    def test_errored_run_is_invalid(self):
        rows = self.replace(healthy(), 'wss_deflate_64', 'ns', 2, errors=3, exit_status=1,
                            first_error='echo differs from the message sent', server_us_per_op=0.5)
        self.assert_invalid(rows, 'wss_deflate_64', 'wss_deflate_64 ns run 2',
                            '3 errors (first: echo differs', 'server_us_per_op', 7.0)

    def test_load_tool_failure_alone_is_invalid(self):
        rows = self.replace(healthy(), 'https_1k_keepalive', 'ns', 3, exit_status=1,
                            server_us_per_op=1.0)
        self.assert_invalid(rows, 'https_1k_keepalive', 'https_1k_keepalive ns run 3',
                            'load tool exited 1', 'server_us_per_op', 11.5)

    def test_deflate_not_agreed_is_invalid(self):
        rows = self.replace(healthy(), 'wss_deflate_64', 'ns', 3, deflate_agreed=False,
                            server_us_per_op=0.1)
        self.assert_invalid(rows, 'wss_deflate_64', 'wss_deflate_64 ns run 3',
                            'permessage-deflate was not agreed', 'server_us_per_op', 6.5)

    def test_deflate_scenario_needs_deflate_even_if_not_offered(self):
        rows = self.replace(healthy(), 'wss_deflate_64', 'ns', 1, deflate=False,
                            deflate_agreed=False, server_us_per_op=0.1)
        self.assert_invalid(rows, 'wss_deflate_64', 'wss_deflate_64 ns run 1',
                            'permessage-deflate was not agreed', 'server_us_per_op', 7.5)

    def test_fewer_connections_than_asked_is_invalid(self):
        rows = self.replace(healthy(), 'idle_wss', 'ns', 1, conns_open=990, rss_per_conn_bytes=10)
        self.assert_invalid(rows, 'idle_wss', 'idle_wss ns run 1',
                            'only 990 of 1000 connections open', 'rss_per_conn_bytes', 8002.5)

    def test_server_gone_after_run_is_invalid(self):
        rows = self.replace(healthy(), 'idle_wss', 'ns', 2, server_alive=False,
                            rss_per_conn_bytes=10)
        self.assert_invalid(rows, 'idle_wss', 'idle_wss ns run 2', 'server ns was gone',
                            'rss_per_conn_bytes', 8002.0)

    def test_peer_that_did_not_start_fails_the_scenario(self):
        rows = [r for r in healthy() if r['server'] != 'nginx']
        rows += [{'scenario': 'https_1k_keepalive', 'server': 'nginx', 'run': run, 'peer': 'nginx',
                  'error': 'nginx did not start listening on 28443', 'exit_status': None,
                  'server_alive': False} for run in (1, 2, 3)]
        rc, out, res = self.report(rows, '--runs', '3', '--only', ONLY)
        self.assertNotEqual(rc, 0, out)
        self.assertIn('invalid: https_1k_keepalive nginx run 2: nginx did not start', out)
        self.assertIn('nginx: no valid run', out)
        self.assertIsNone(res['https_1k_keepalive']['ratio'])

    def test_missing_peer_records_fail_the_scenario(self):
        rows = [r for r in healthy() if r['server'] != 'node']
        for r in rows:
            r.pop('peer')
        rc, out, res = self.report(rows, '--runs', '3', '--only', ONLY)
        self.assertNotEqual(rc, 0, out)
        self.assertIn('idle_wss: no peer server recorded', out)
        self.assertIn('FAILED', self.line_of(out, 'idle_wss'))

    def test_missing_scenario_and_missing_runs_fail(self):
        rows = [r for r in healthy() if not (r['scenario'] == 'idle_wss' or
                                             (r['server'] == 'nginx' and r['run'] == 3))]
        rc, out, _ = self.report(rows, '--runs', '3', '--only', ONLY)
        self.assertNotEqual(rc, 0, out)
        self.assertIn('idle_wss: no run recorded', out)
        self.assertIn('nginx: 2 runs recorded, 3 asked', out)


if __name__ == '__main__':
    if len(sys.argv) > 1 and not sys.argv[1].startswith('-'):
        REPORT = os.path.abspath(sys.argv.pop(1))
    unittest.main(verbosity=2)
