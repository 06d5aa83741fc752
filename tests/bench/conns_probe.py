#!/usr/bin/env python3
# Probe of the main lcore during connection listings: one connection asks lb.conns 20 times while
# another sends "version" back to back; prints the listing times and the other client's latency
# during and outside the listings (docs/PERFORMANCE.md). Usage: conns_probe.py CONTROL_SOCKET
import socket, sys, time, threading, json
path = sys.argv[1]
def conn():
    s = socket.socket(socket.AF_UNIX); s.connect(path); return s.makefile("rwb", buffering=0), s
def call(f, cmd):
    f.write((json.dumps({"cmd": cmd}) + "\n").encode()); return json.loads(f.readline())
stop = False; lat = []; during = []
listing = [False]
def other():
    f, s = conn()
    while not stop:
        t0 = time.perf_counter(); r = call(f, "version"); dt = time.perf_counter() - t0
        assert r["ok"]
        (during if listing[0] else lat).append(dt)
th = threading.Thread(target=other); th.start()
fa, sa = conn(); times = []
for i in range(20):
    listing[0] = True
    t0 = time.perf_counter(); r = call(fa, "lb.conns"); times.append(time.perf_counter() - t0)
    listing[0] = False
    assert r["ok"] and "workers_not_answering" not in r["result"], r
    time.sleep(0.05)
stop = True; th.join()
ms = lambda v: "%.1f" % (v * 1e3)
print("lb.conns over a 1M-slot table: 20 replies, median", ms(sorted(times)[10]), "ms, max", ms(max(times)), "ms")
print("other client meanwhile: %d 'version' calls during listings, median %s ms, max %s ms (outside listings: %d calls, max %s ms)" % (
    len(during), ms(sorted(during)[len(during)//2]), ms(max(during)), len(lat), ms(max(lat))))
