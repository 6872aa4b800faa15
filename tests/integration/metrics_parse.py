#!/usr/bin/python3
# SPDX-License-Identifier: MIT
# Parses a Prometheus text exposition with the real parser (Debian python3-prometheus-client)
# and prints what it understood, one line each, for metrics_it.cpp to check:
#   TYPE <family> <type>
#   <sample name>{<label>="<value>",... sorted} <value>
# A document the parser refuses makes this exit non-zero with its error on stderr.
import sys

from prometheus_client.parser import text_string_to_metric_families


def main():
    with open(sys.argv[1], encoding="utf-8") as f:
        text = f.read()
    for family in text_string_to_metric_families(text):
        print(f"TYPE {family.name} {family.type}")
        for s in family.samples:
            labels = ",".join(f'{k}="{v}"' for k, v in sorted(s.labels.items()))
            print(f"{s.name}{{{labels}}} {s.value!r}")


if __name__ == "__main__":
    main()
