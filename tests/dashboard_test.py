#!/usr/bin/python3
"""leakwatch dashboard test: the Grafana dashboard (conf/leakwatch-grafana.json)
and the sample alerting rules use only metrics a real leakwatchd exports,
with the labels it gives them, in PromQL that parses.

    /usr/bin/python3 tests/dashboard_test.py --daemon build/leakwatchd
        [--dashboard conf/leakwatch-grafana.json] [--alerts conf/leakwatch-alerts.yml]
        [--alerts-test tests/leakwatch-alerts.test.yml] [--keep [DIR]]

- extractor: the PromQL scanner below finds the metric and label names of
  a table of expressions (so that a check built on it can fail).
- dashboard-json: the file parses; a uid, a title, an integer
  schemaVersion; unique panel ids; every panel within the 24 columns and
  no two overlapping; every query panel with targets, each with an expr
  and a refId unique in its panel, on the ${datasource} variable; every
  variable used is defined; a multi-value variable is matched with =~.
- exported: leakwatchd runs with `metrics: listen`, a watch with a max on
  every metric (uss and pss too), a group with a max on each of its
  metrics (so the leakwatch_group_* families) and a signal action over a
  program that leaks file descriptors, until /metrics has every family with samples but
  leakwatch_process_unreadable (nothing is unreadable to root): the names
  (TYPE lines) and each family's label names are taken from it.
- dashboard-names: every metric an expression of the dashboard (panel
  targets, annotations, variable queries) uses is exported; every label it
  matches, groups by or shows in a legend is one of those metrics'
  (or instance, job: the target's labels).
- dashboard-parse: every expression, with the Grafana variables put in,
  is a recording rule of a generated rule file that `promtool check rules`
  accepts (it parses PromQL offline).
- alerts-names: the same name and label checks on the alerting rules, and
  the input series of their unit tests are named as the daemon names them.

One PASS/FAIL line per check, then `dashboard_test: N passed, M failed`.
About 10 s.
"""

import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request

sys.dont_write_bytecode = True
from lwtest import (HERE, PROGRAMS, PYTHON, Check, Daemon, Prog, cmdlines, finish, free_port, interrupt_on_term,
                    start_failed, stop_groups, wait_for, yq)

ROOT = os.path.dirname(HERE)
# labels Prometheus adds from the scrape target
TARGET_LABELS = {"instance", "job"}
# metrics of other exporters the alerting rules use on purpose
FOREIGN = {"up", "node_textfile_mtime_seconds"}
# Grafana's own interval variables, as a duration
GRAFANA_INTERVALS = ("__rate_interval", "__interval", "__range")

# ----------------------------------------------------------------------------
# PromQL, scanned: enough to find the names, not a parser (promtool parses)

TOKEN = re.compile(r'''\s+|(?P<str>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`)|(?P<num>[0-9][0-9a-zA-Z_.+]*)'''
                   r'''|(?P<id>[a-zA-Z_:][a-zA-Z0-9_:]*)|(?P<op>=~|!~|!=|==|<=|>=|[-+*/%^<>=(){}\[\],:@])''')
GROUPING = {"by", "without", "on", "ignoring", "group_left", "group_right"}
KEYWORDS = {"and", "or", "unless", "bool", "offset", "inf", "nan", "start", "end"} | GROUPING


def tokens(expr):
    """[(kind, text)] of expr; kind str, num, id or op; ValueError on a character it cannot scan."""
    out, i = [], 0
    while i < len(expr):
        m = TOKEN.match(expr, i)
        if not m or m.end() == i:
            raise ValueError(f"cannot scan {expr[i:i + 20]!r}")
        i = m.end()
        if m.lastgroup:
            out.append((m.lastgroup, m.group(m.lastgroup)))
    return out


def scan(expr):
    """(metrics, labels, bare) of a PromQL expression: the metric names it
    selects, the label names it matches or groups by, and whether it has a
    selector without a metric name ({...} alone)."""
    toks = tokens(expr)
    metrics, labels, bare = set(), set(), False
    i, depth_sq = 0, 0
    while i < len(toks):
        kind, text = toks[i]
        nxt = toks[i + 1][1] if i + 1 < len(toks) else ""
        if text == "[":
            depth_sq += 1
        elif text == "]":
            depth_sq -= 1
        elif depth_sq:
            pass                                   # a range or a subquery's step
        elif kind == "id" and text.lower() in GROUPING and nxt == "(":
            j = i + 2
            while j < len(toks) and toks[j][1] != ")":
                if toks[j][0] == "id":
                    labels.add(toks[j][1])
                j += 1
            i = j
        elif kind == "id" and (nxt == "(" or nxt.lower() in ("by", "without")):
            pass                                   # a function or an aggregation
        elif kind == "id" and text.lower() == "offset":
            i += 1                                 # its duration
        elif kind == "id" and text.lower() not in KEYWORDS:
            metrics.add(text)
        elif text == "{":
            if i == 0 or toks[i - 1][0] != "id":
                bare = True
            j = i + 1
            while j < len(toks) and toks[j][1] != "}":
                if toks[j][0] == "id" and j + 1 < len(toks) and toks[j + 1][1] in ("=", "!=", "=~", "!~"):
                    labels.add(toks[j][1])
                j += 1
            i = j
        i += 1
    return metrics, labels, bare


EXTRACTOR_CASES = [
    # (expression, metrics, labels, bare)
    ('leakwatch_process_leak == 1', {"leakwatch_process_leak"}, set(), False),
    ('sum by (watch, metric) (leakwatch_watch_leaking_processes{instance=~".*", watch=~"a|b"})',
     {"leakwatch_watch_leaking_processes"}, {"watch", "metric", "instance"}, False),
    ('increase(leakwatch_events_total{event="leak"}[6h]) >= 3', {"leakwatch_events_total"}, {"event"}, False),
    ('rate(a_total[5m]) / rate(b_total[5m:1m] offset 1h)', {"a_total", "b_total"}, set(), False),
    ('x < 6 * 3600 unless on (instance, pid) y == 1', {"x", "y"}, {"instance", "pid"}, False),
    ('max without (comm) (foo) + ignoring(z) group_left(w) bar', {"foo", "bar"}, {"comm", "z", "w"}, False),
    ('absent(leakwatch_build_info)', {"leakwatch_build_info"}, set(), False),
    ('time() - node_textfile_mtime_seconds{file=~"(.*/)?x\\\\.prom"} > 300', {"node_textfile_mtime_seconds"},
     {"file"}, False),
    ('{__name__=~"leakwatch_.*"}', set(), {"__name__"}, True),
    ('3600 * leakwatch_process_rss_trend_bytes_per_second{pid=~"1|2"} and on() vector(1)',
     {"leakwatch_process_rss_trend_bytes_per_second"}, {"pid"}, False),
]


def check_extractor():
    c = Check("extractor")
    for expr, m, lb, bare in EXTRACTOR_CASES:
        got = scan(expr)
        if got != (m, lb, bare):
            c.fail(f"{expr!r}: {got}, expected {(m, lb, bare)}")
    if c.ok:
        c.note(f"{len(EXTRACTOR_CASES)} expressions")
    return c


# ----------------------------------------------------------------------------
# the dashboard

VAR = re.compile(r"\$(\w+)|\$\{(\w+)(?::\w+)?\}|\[\[(\w+)\]\]")
LABEL_VALUES = re.compile(r"^\s*label_values\((.*),\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*\)\s*$", re.S)
QUERY_RESULT = re.compile(r"^\s*query_result\((.*)\)\s*$", re.S)
LEGEND_LABEL = re.compile(r"\{\{\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*\}\}")


def all_panels(dash):
    """Every panel, those inside collapsed rows too."""
    out = []
    for p in dash.get("panels", []):
        out.append(p)
        out.extend(p.get("panels", []) if p.get("type") == "row" else [])
    return out


def variables_used(expr):
    return {a or b or c for a, b, c in VAR.findall(expr)}


def with_variables(expr):
    """expr as Prometheus would get it: Grafana's intervals as 5m, every
    other variable as the regex .* (all values)."""
    def sub(m):
        name = m.group(1) or m.group(2) or m.group(3)
        return "5m" if name in GRAFANA_INTERVALS else ".*"
    return VAR.sub(sub, expr)


def dashboard_queries(dash):
    """[(where, expr, legend, label)] of every PromQL the dashboard sends:
    panel targets, annotations, variable queries (label_values(SELECTOR,
    LABEL): the selector, and LABEL; query_result(EXPR): EXPR)."""
    out = []
    for p in all_panels(dash):
        for t in p.get("targets", []):
            out.append((f"panel {p.get('id')} {p.get('title')!r} {t.get('refId')}", t.get("expr"),
                        t.get("legendFormat", ""), None))
    for a in dash.get("annotations", {}).get("list", []):
        if "expr" in a:
            out.append((f"annotation {a.get('name')!r}", a["expr"], a.get("textFormat", ""), None))
    for v in dash.get("templating", {}).get("list", []):
        if v.get("type") != "query":
            continue
        q = v.get("query")
        q = q.get("query") if isinstance(q, dict) else q
        m, r = LABEL_VALUES.match(q or ""), QUERY_RESULT.match(q or "")
        if m:
            out.append((f"variable {v.get('name')}", m.group(1), "", m.group(2)))
        elif r:
            out.append((f"variable {v.get('name')}", r.group(1), "", None))
        else:
            out.append((f"variable {v.get('name')}", None, "", None))
    return out


def check_dashboard_json(path):
    c = Check("dashboard-json")
    try:
        with open(path) as f:
            dash = json.load(f)
    except (OSError, ValueError) as e:
        c.fail(f"{path}: {e}")
        return c, None
    for key, kind in (("uid", str), ("title", str), ("schemaVersion", int), ("panels", list)):
        if not isinstance(dash.get(key), kind) or not dash.get(key):
            c.fail(f"no {key} ({kind.__name__})")
    panels = all_panels(dash)
    variables = {v.get("name"): v for v in dash.get("templating", {}).get("list", [])}
    ds = [v for v in variables.values() if v.get("type") == "datasource" and v.get("query") == "prometheus"]
    if not ds:
        c.fail("no datasource variable of type prometheus")
    ids = [p.get("id") for p in panels]
    if len(set(ids)) != len(ids) or not all(isinstance(i, int) for i in ids):
        c.fail(f"panel ids not unique integers: {ids}")
    boxes = []
    for p in panels:
        g = p.get("gridPos", {})
        try:
            x, y, w, h = (int(g[k]) for k in ("x", "y", "w", "h"))
        except (KeyError, TypeError, ValueError):
            c.fail(f"panel {p.get('id')}: gridPos {g}")
            continue
        if x < 0 or w < 1 or h < 1 or x + w > 24 or y < 0:
            c.fail(f"panel {p.get('id')}: gridPos {g} outside the 24 columns")
        for q, (x2, y2, w2, h2) in boxes:
            if x < x2 + w2 and x2 < x + w and y < y2 + h2 and y2 < y + h:
                c.fail(f"panels {q} and {p.get('id')} overlap")
        boxes.append((p.get("id"), (x, y, w, h)))
        if p.get("type") == "row":
            continue
        targets = p.get("targets") or []
        if not targets:
            c.fail(f"panel {p.get('id')} {p.get('title')!r}: no targets")
        refs = [t.get("refId") for t in targets]
        if len(set(refs)) != len(refs) or not all(refs):
            c.fail(f"panel {p.get('id')}: refIds {refs}")
        for t in targets + [p]:
            if (t.get("datasource") or {}).get("uid") != "${datasource}":
                c.fail(f"panel {p.get('id')}: datasource {t.get('datasource')}, not the ${{datasource}} variable")
    for where, expr, _, _ in dashboard_queries(dash):
        if not isinstance(expr, str) or not expr.strip():
            c.fail(f"{where}: no expression")
            continue
        for name in variables_used(expr) - set(GRAFANA_INTERVALS):
            v = variables.get(name)
            if v is None:
                c.fail(f"{where}: variable ${name} is not defined")
            elif (v.get("multi") or v.get("includeAll")) and \
                    re.search(r'[a-zA-Z_]\w*\s*(=|!=)\s*"[^"]*\$\{?' + name + r"\b", expr):
                c.fail(f"{where}: multi-value ${name} matched with = or != (needs =~ or !~)")
    if c.ok:
        c.note(f"{len(panels)} panels, {len(dashboard_queries(dash))} queries, {len(variables)} variables")
    return c, dash


# ----------------------------------------------------------------------------
# what a real daemon exports

def parse_exposition(text):
    """({family: type}, {family: set of label names}, {family: samples}) of
    an exposition."""
    types, labels, counts = {}, {}, {}
    for ln in text.splitlines():
        m = re.match(r"^# TYPE (\S+) (\S+)$", ln)
        if m:
            types[m.group(1)] = m.group(2)
            continue
        if not ln or ln.startswith("#"):
            continue
        m = re.match(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? \S+$", ln)
        if not m:
            continue
        fam = m.group(1)
        counts[fam] = counts.get(fam, 0) + 1
        labels.setdefault(fam, set()).update(re.findall(r'([a-zA-Z_]\w*)="(?:[^"\\]|\\.)*"', m.group(2) or ""))
    return types, labels, counts


def exported_names(daemon, work, token):
    """(Check, types, labels, text) from a real daemon's /metrics."""
    c = Check("exported")
    port = free_port()
    cfg = os.path.join(work, "dash.yaml")
    with open(cfg, "w") as f:
        f.write("\n".join([
            "interval: 100ms",
            "metrics:",
            f"  listen: 127.0.0.1:{port}",
            "watches:",
            "  - name: dash",
            f"    match: {{ cmdline: {yq(token)} }}",
            "    window: 2s",
            "    rss: { max: 4G, growth: 100G/h }",
            "    fds: { max: 100000, growth: 1000000/h }",
            "    threads: { max: 10000 }",
            "    uss: { max: 4G, growth: 100G/h }",
            "    pss: { max: 4G }",
            "    on_limit: signal",
            "    group:",
            "      rss: { max: 100G, growth: 1000G/h }",
            "      fds: { max: 10000000, growth: 100000000/h }",
            "      threads: { max: 1000000 }",
            ""]))
    d = Daemon("dash", daemon, cfg, work)
    prog = Prog("leaker", [PYTHON, "-B", os.path.join(PROGRAMS, "leak_files.py"), "--path",
                           os.path.join(work, "leaked"), "--per-sec", "20", "--seconds", "60", "--tag", token], work)
    text, types, labels = "", {}, {}
    try:
        d.start()
        if not d.wait_started():
            with open(d.err) as f:
                c.fail(f"leakwatchd did not start: {f.read()[-300:]!r}")
            return c, {}, {}, ""
        prog.start()

        def scrape():
            nonlocal text, types, labels
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as r:
                    text = r.read().decode()
            except OSError:
                return False
            types, labels, counts = parse_exposition(text)
            return all(counts.get(f) for f in types if f != "leakwatch_process_unreadable")
        full = wait_for(scrape, 20, 0.25)
        types, labels, counts = parse_exposition(text)
        if not types:
            c.fail(f"no metrics from 127.0.0.1:{port}/metrics")
        elif not full:
            c.fail("families without samples after 20 s: " +
                   ", ".join(f for f in types if not counts.get(f) and f != "leakwatch_process_unreadable"))
        for f in types:
            if not f.startswith("leakwatch_"):
                c.fail(f"a family not named leakwatch_*: {f}")
        if c.ok:
            c.note(f"{len(types)} families, {sum(counts.values())} samples")
    finally:
        stop_groups([p for p in (prog.proc,) if p is not None])
        if d.proc is not None:
            d.stop()
            d.kill()
    with open(os.path.join(work, "metrics.prom"), "w") as f:
        f.write(text)
    # the unreadable family's labels, as leakwatch.yaml(5) gives them (no sample as root)
    labels.setdefault("leakwatch_process_unreadable", {"watch", "pid", "comm", "metric"})
    return c, types, labels, text


def check_names(name, queries, types, labels, foreign=frozenset()):
    """Every metric of every (where, expr, legend, label) query exported
    (or in foreign), every label matched, grouped by or shown one of its
    metrics' or the target's."""
    c = Check(name)
    used = set()
    for where, expr, legend, label in queries:
        if not isinstance(expr, str):
            continue
        try:
            metrics, lbs, bare = scan(with_variables(expr))
        except ValueError as e:
            c.fail(f"{where}: {e}")
            continue
        if bare:
            c.fail(f"{where}: a selector without a metric name")
        if not metrics:
            c.fail(f"{where}: no metric in {expr!r}")
        unknown = sorted(m for m in metrics if m not in types and m not in foreign)
        for m in unknown:
            c.fail(f"{where}: {m} is not exported")
        used |= metrics
        if unknown or metrics & foreign:
            continue
        have = TARGET_LABELS.union(*(labels.get(m, set()) for m in metrics))
        wanted = lbs | set(LEGEND_LABEL.findall(legend or "")) | ({label} if label else set())
        for lb in sorted(wanted - have):
            c.fail(f"{where}: label {lb} is on none of {sorted(metrics)}")
    if c.ok:
        c.note(f"{len(queries)} expressions, {len(used)} metrics: " + ", ".join(sorted(used)))
    return c, used


def check_parse(queries, work):
    """promtool check rules on one recording rule per expression."""
    c = Check("dashboard-parse")
    rules = [{"record": f"leakwatch_dashboard:expr_{i}", "expr": with_variables(expr)}
             for i, (_, expr, _, _) in enumerate(queries) if isinstance(expr, str)]
    path = os.path.join(work, "dashboard-rules.yml")
    with open(path, "w") as f:
        json.dump({"groups": [{"name": "leakwatch-dashboard", "rules": rules}]}, f, indent=1)
    r = subprocess.run(["promtool", "check", "rules", path], capture_output=True, text=True, timeout=60)
    if r.returncode != 0:
        out = (r.stdout + r.stderr).strip()
        for m in re.finditer(r"expr_(\d+)", out):
            where = queries[int(m.group(1))][0] if int(m.group(1)) < len(queries) else "?"
            c.fail(f"{where}")
        c.fail(f"promtool check rules: exit {r.returncode}: {out[-600:]}")
    elif f"{len(rules)} rules found" not in r.stdout:
        c.fail(f"promtool did not report {len(rules)} rules: {r.stdout.strip()[-200:]}")
    else:
        c.note(f"promtool: {len(rules)} expressions parse")
    return c


# ----------------------------------------------------------------------------
# the alerting rules and their unit tests (our own YAML: expr: lines and
# series: lines, read without a YAML library)

def alert_queries(path):
    """[(where, expr, annotations text, None)] of a rule file's rules."""
    out, lines = [], open(path).read().splitlines()
    name = "?"
    i = 0
    while i < len(lines):
        ln = lines[i]
        m = re.match(r"^\s*- (?:alert|record): (\S+)", ln)
        if m:
            name = m.group(1)
        m = re.match(r"^(\s*)expr: (.*)$", ln)
        if m:
            indent, rest = len(m.group(1)), m.group(2).strip()
            if rest in ("|", ">", "|-", ">-"):
                body = []
                while i + 1 < len(lines) and (not lines[i + 1].strip() or
                                              len(lines[i + 1]) - len(lines[i + 1].lstrip()) > indent):
                    i += 1
                    body.append(lines[i].strip())
                rest = " ".join(body)
            out.append((f"alert {name}", rest, "", None))
        i += 1
    return out


def test_series(path):
    """The metric names of a promtool unit test file's input series."""
    return {m.group(1) for m in re.finditer(r"series:\s*'([a-zA-Z_:][a-zA-Z0-9_:]*)", open(path).read())}


def check_alerts(alerts, alerts_test, types, labels):
    c, used = check_names("alerts-names", alert_queries(alerts), types, labels, FOREIGN)
    c.name = "alerts-names"
    if not alert_queries(alerts):
        c.fail(f"no expr: in {alerts}")
    for m in sorted(test_series(alerts_test)):
        if m not in types and m not in FOREIGN:
            c.fail(f"{os.path.basename(alerts_test)}: input series {m} is not exported")
    return c


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--daemon", required=True, help="path to leakwatchd")
    ap.add_argument("--dashboard", default=os.path.join(ROOT, "conf", "leakwatch-grafana.json"))
    ap.add_argument("--alerts", default=os.path.join(ROOT, "conf", "leakwatch-alerts.yml"))
    ap.add_argument("--alerts-test", default=os.path.join(HERE, "leakwatch-alerts.test.yml"))
    ap.add_argument("--keep", nargs="?", const="", default=None, help="keep the work dir (or use DIR)")
    a = ap.parse_args()
    if shutil.which("promtool") is None:
        print("dashboard_test: promtool is missing (Debian package prometheus)")
        return 1
    work = a.keep or tempfile.mkdtemp(prefix="lw-dashboard-")
    os.makedirs(work, exist_ok=True)
    token = "lwdash" + os.urandom(6).hex()
    interrupt_on_term()
    checks = [check_extractor()]
    try:
        c, dash = check_dashboard_json(a.dashboard)
        checks.append(c)
        c, types, labels, _ = exported_names(a.daemon, work, token)
        checks.append(c)
        if dash is not None and types:
            queries = dashboard_queries(dash)
            c, used = check_names("dashboard-names", queries, types, labels)
            checks.append(c)
            checks.append(check_parse(queries, work))
        if types:
            checks.append(check_alerts(a.alerts, a.alerts_test, types, labels))
    except KeyboardInterrupt:
        print("dashboard_test: interrupted", file=sys.stderr)
        return 130
    finally:
        for pid, cl in cmdlines().items():
            if token in cl and pid != os.getpid():
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass
    return finish("dashboard_test", checks, 16, work, a.keep is not None,
                  "the daemon's metrics.prom and the generated rules", [], ())


if __name__ == "__main__":
    sys.exit(main())
