"""Load on the HTTP API: N concurrent clients for T seconds against /api/estimate and /api/series of
``emigre serve`` (uvicorn in its own process on 127.0.0.1), then latency percentiles and errors.

    .venv/bin/python benchmarks/bench_serve.py --store out/russia-2022            # 50 clients, 30 s
    .venv/bin/python benchmarks/bench_serve.py --store DIR --clients 50 --seconds 30 --json out.json

Each client loops over a fixed mix of requests (estimates of every quantity at several dates, and daily or
weekly series of national and per-country measures), so that the server answers both first requests and
repeated ones, as a dashboard does. An error is a non-200 answer or a failed request. The first pass over the
mix is made once before timing (warm-up, reported apart).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent

DATES = ("2022-03-31", "2022-06-30", "2022-09-30", "2022-10-31", "2022-12-31", "2023-06-30")
COUNTRIES = ("GEO", "KAZ", "ARM", "TUR", "SRB", "ISR", "UZB", "KGZ")


def request_mix() -> list[str]:
    urls = []
    for d in DATES:
        urls += [f"/api/estimate?quantity=departed&at={d}", f"/api/estimate?quantity=abroad&at={d}",
                 f"/api/estimate?quantity=returned&at={d}"]
    for c in COUNTRIES:
        urls += [f"/api/estimate?quantity=present&destination={c}", f"/api/series?measure=present&place={c}&step=week"]
    urls += ["/api/estimate?quantity=departed&by=reason", "/api/estimate?quantity=share&by=age",
             "/api/estimate?quantity=crossings&from=2022-09-21&to=2022-10-31"]
    urls += [f"/api/series?measure={m}" for m in ("departures", "abroad", "departed_cum", "returned_cum")]
    urls += [f"/api/series?measure={m}&step=week" for m in ("departures", "abroad")]
    return urls


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU time of a process (Linux /proc), to tell work from waiting on a busy machine."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Connection:
    """One keep-alive HTTP/1.1 connection with a minimal client: a Python HTTP library costs more CPU per
    request than the server does, and on a small machine the benchmark would measure its own client."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader = self.writer = None

    async def get(self, path: str) -> int:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        self.writer.write(f"GET {path} HTTP/1.1\r\nHost: {self.host}\r\n\r\n".encode())
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head.split(b" ", 2)[1])
        length = 0
        for line in head.split(b"\r\n"):
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":", 1)[1])
        await self.reader.readexactly(length)
        return status

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


async def client(host, port, urls, offset, stop_at, lat, errors):
    conn = Connection(host, port)
    i = offset
    try:
        while time.perf_counter() < stop_at:
            url = urls[i % len(urls)]
            i += 1
            t0 = time.perf_counter()
            try:
                ok = await conn.get(url) == 200
            except (OSError, asyncio.IncompleteReadError, ValueError, IndexError):
                ok = False
                await conn.close()
                conn = Connection(host, port)
            lat.append(time.perf_counter() - t0)
            if not ok:
                errors.append(url)
    finally:
        await conn.close()


async def load(host: str, port: int, clients: int, seconds: float, server_pid: int | None = None) -> dict:
    urls = request_mix()
    warm_conn = Connection(host, port)
    t0 = time.perf_counter()
    warm_errors = 0
    for u in urls:  # warm-up: first answer of each request
        warm_errors += (await warm_conn.get(u)) != 200
    await warm_conn.close()
    warm = time.perf_counter() - t0
    lat: list[float] = []
    errors: list[str] = []
    stop_at = time.perf_counter() + seconds
    cpu0 = cpu_seconds(server_pid) if server_pid else None
    me0 = cpu_seconds(os.getpid())
    t1 = time.perf_counter()
    await asyncio.gather(*(client(host, port, urls, k * 7, stop_at, lat, errors) for k in range(clients)))
    wall = time.perf_counter() - t1
    cpu1 = cpu_seconds(server_pid) if server_pid else None
    me1 = cpu_seconds(os.getpid())
    ms = np.array(lat) * 1000
    server_cpu = None if cpu0 is None or cpu1 is None else cpu1 - cpu0
    return {"clients": clients, "seconds": round(wall, 1), "requests": len(lat), "errors": len(errors),
            "requests_per_s": round(len(lat) / wall, 1), "p50_ms": round(float(np.percentile(ms, 50)), 1),
            "p95_ms": round(float(np.percentile(ms, 95)), 1), "p99_ms": round(float(np.percentile(ms, 99)), 1),
            "max_ms": round(float(ms.max()), 1), "warmup_s": round(warm, 2), "warmup_requests": len(urls),
            "warmup_errors": warm_errors, "cpus": os.cpu_count(),
            "server_cpu_share": None if server_cpu is None else round(server_cpu / wall, 2),
            "server_cpu_ms_per_request": None if server_cpu is None or not lat else round(1000 * server_cpu / len(lat), 2),
            "client_cpu_share": None if me0 is None or me1 is None else round((me1 - me0) / wall, 2)}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--store", default="out/russia-2022", help="ensemble store (emigre run --out)")
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--seconds", type=float, default=30.0)
    ap.add_argument("--json", help="write the figures to this file")
    a = ap.parse_args()
    store = Path(a.store)
    if not (store / "runs").is_dir():
        print(f"no store in {store}: make one with `emigre run russia-2022 --out {store}`", file=sys.stderr)
        return 2
    port = free_port()
    code = ("import uvicorn; from emigre.serve import create_app; "
            f"uvicorn.run(create_app({str(store)!r}), host='127.0.0.1', port={port}, log_level='warning')")
    server = subprocess.Popen([sys.executable, "-c", code], cwd=ROOT)
    try:
        import httpx

        base = f"http://127.0.0.1:{port}"
        t0 = time.time()
        while True:
            try:
                if httpx.get(base + "/api/health").status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.time() - t0 > 60 or server.poll() is not None:
                print("the server did not start", file=sys.stderr)
                return 1
            time.sleep(0.2)
        runs = httpx.get(base + "/api/meta", timeout=120).json().get("runs_text", "?")
        res = asyncio.run(load("127.0.0.1", port, a.clients, a.seconds, server.pid)) | {"store": str(store),
                                                                                          "runs": runs}
    finally:
        server.terminate()
        server.wait(timeout=20)
    print(f"store {res['store']} ({res['runs']}); {res['cpus']} CPUs; server: one uvicorn process")
    print(f"warm-up: {res['warmup_requests']} distinct requests in {res['warmup_s']} s ({res['warmup_errors']} errors)")
    print(f"{res['clients']} clients for {res['seconds']} s: {res['requests']} requests, {res['requests_per_s']}/s, "
          f"errors {res['errors']}")
    print(f"latency ms: p50 {res['p50_ms']}  p95 {res['p95_ms']}  p99 {res['p99_ms']}  max {res['max_ms']}")
    if res["server_cpu_ms_per_request"] is not None:
        print(f"server: {res['server_cpu_ms_per_request']} ms of CPU per request, {res['server_cpu_share']} of a core "
              f"while loaded; the clients took {res['client_cpu_share']} of a core")
    if a.json:
        from emigre.fileio import atomic_write_text

        atomic_write_text(Path(a.json), json.dumps(res, indent=2) + "\n")
    return 0 if res["errors"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
