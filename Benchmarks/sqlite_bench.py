#!/usr/bin/env python3
"""SQLite baselines for logbook-bench (issue 5).

  sqlite_bench.py init   --db FILE                 create the table, WAL mode
  sqlite_bench.py writer --db FILE --count N --bytes B --start-at NS
        one writer process: synchronous=FULL, one transaction per event (BEGIN IMMEDIATE,
        INSERT, COMMIT); waits until CLOCK_MONOTONIC reaches NS, then prints
        `span <start ns> <end ns> <events> <cpu ns>` (the same clock as logbook-bench; the CPU
        time of the loop).
  sqlite_bench.py insert-sql --bytes B             the SQL one `sqlite3` CLI invocation runs

logbook-bench starts N writer processes at once and reads their span lines.
"""
import argparse
import os
import sqlite3
import time


def record(n):
    words = "unit tests pass for the limiter; next the load test on staging with two replicas; "
    text = (words * (n // len(words) + 1))[: max(0, n - 12)]
    return ('{"note":"%s"}' % text)[:n]


def connect(db):
    con = sqlite3.connect(db, timeout=60, isolation_level=None)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("PRAGMA synchronous=FULL")
    return con


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=["init", "writer", "insert-sql"])
    ap.add_argument("--db")
    ap.add_argument("--count", type=int, default=100)
    ap.add_argument("--bytes", type=int, default=400)
    ap.add_argument("--start-at", type=int, default=0)
    a = ap.parse_args()
    if a.mode == "init":
        con = connect(a.db)
        con.execute("CREATE TABLE IF NOT EXISTS events (seq INTEGER PRIMARY KEY, body TEXT NOT NULL)")
        con.close()
        return
    if a.mode == "insert-sql":
        body = record(a.bytes).replace("'", "''")
        print("PRAGMA synchronous=FULL; INSERT INTO events(body) VALUES('%s');" % body)
        return
    con = connect(a.db)
    body = record(a.bytes)
    while time.monotonic_ns() < a.start_at:
        time.sleep(min(0.05, (a.start_at - time.monotonic_ns()) / 1e9))
    c0 = time.process_time_ns()
    t0 = time.monotonic_ns()
    for _ in range(a.count):
        con.execute("BEGIN IMMEDIATE")
        con.execute("INSERT INTO events(body) VALUES(?)", (body,))
        con.execute("COMMIT")
    t1 = time.monotonic_ns()
    c1 = time.process_time_ns()
    con.close()
    print("span %d %d %d %d" % (t0, t1, a.count, c1 - c0), flush=True)


if __name__ == "__main__":
    main()
