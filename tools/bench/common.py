"""What every part of `make bench` shares: paths, logs, the gunicorn server, wrk, logins."""

from __future__ import annotations

import hashlib
import os
import re
import signal
import socket
import subprocess  # nosec B404  (runs the app's own commands and wrk)
import sys
import time
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parent.parent.parent
sys.path.insert(0, str(ROOT))
OUT = ROOT / "bench" / "out"
VENV = ROOT / ".venv" / "bin"
PG_ADMIN_URL = os.environ.get("BENCH_PG_ADMIN", "postgresql://postgres@127.0.0.1:5432/postgres")
PG_DB = os.environ.get("BENCH_PG_DB", "bench_pg")
PASSWORD = "Huimin-Demo-2026"  # nosec B105  (the demo password of the scale logins)
OFFICER = "officer@scale.huimin"
LARGE_TABLES = {"ratings", "service_sessions", "bids", "bid_revisions", "purchase_projects", "project_lines",
                "criteria", "scores", "review_bid_results", "review_lines", "review_results", "panels",
                "panel_members", "awards", "contracts", "contract_lines", "payment_milestones", "users",
                "user_roles", "providers", "demand_requests", "demand_supports", "complaints", "bid_openings",
                "performance_snapshots", "audit_events", "notifications"}
# Key pages: (name, path template, login or None). The floor is measured in both login states.
PAGES = [
    ("floor", "/bench/floor", None),
    ("catalog search", "/catalog/?q=" + quote("演出"), None),
    ("project list", "/projects/", None),
    ("project page", "/projects/{project}", None),
    ("project evaluation", "/review/projects/{project}/report", None),
    ("provider profile", "/performance/providers/{provider}", None),
    ("portal home", "/portal", None),
    ("portal ratings", "/portal/ratings", None),
    ("floor (officer)", "/bench/floor", OFFICER),
    ("officer dashboard", "/dashboard", OFFICER),
    ("demand dashboard", "/officer/demand/dashboard", OFFICER),
    ("scorecards of towns", "/scorecards/", OFFICER),
    ("scorecard of a town", "/scorecards/area/2", OFFICER),  # scale data: area 2 is the first town
    ("coverage map", "/coverage/", OFFICER),
]
TARGET_P95_MS = 100
# A page's p95 at most this many times the floor's (latency pass); the review report, which
# shows every expert's score for every bid and re-runs the panel draw, gets REPORT_RATIO.
TARGET_RATIO = 2
REPORT_RATIO = 3
REPORT_PAGES = {"project evaluation"}
# The two loads: one connection per gunicorn worker (latency, no queueing), and 16 (throughput).
PASSES = {"latency": 2, "throughput": 16}


def load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def log(msg: str):
    print(f"[{time.strftime('%H:%M:%S')} load {load()}] {msg}", flush=True)


def env_for(db_url: str, **extra) -> dict:
    env = dict(os.environ, FLASK_APP="app", DATABASE_URL=db_url, PYTHONPATH=str(ROOT))
    env.update({k: str(v) for k, v in extra.items()})
    return env


def run(cmd: list[str], env: dict, quiet: bool = False):
    log(" ".join(cmd))
    subprocess.run(cmd, env=env, check=True, cwd=ROOT,  # nosec B603
                   stdout=subprocess.DEVNULL if quiet else None)


def _child_cpu() -> float:
    import resource

    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def seed_version() -> str:
    return hashlib.sha256((ROOT / "seeds" / "scale.py").read_bytes()).hexdigest()[:16]


# --- gunicorn and wrk ---------------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, db_url: str, log_name: str, **extra):
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log = open(OUT / log_name, "w")  # noqa: SIM115
        self.proc = subprocess.Popen(  # nosec B603
            # Workers as deployed: gunicorn.conf.py (WEB_WORKERS in the environment, or extra, overrides).
            [str(VENV / "gunicorn"), "--bind", f"127.0.0.1:{self.port}", "--timeout", "120",
             "tools.bench.floor:create_app()"], env=env_for(db_url, **extra), cwd=ROOT, stdout=self.log,
            stderr=subprocess.STDOUT)
        import requests

        for _ in range(300):
            try:
                if requests.get(self.base + "/healthz", timeout=2).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"gunicorn did not start (see {OUT / log_name})")

    def worker_pids(self) -> list[int]:
        pids = []
        for d in Path("/proc").iterdir():
            if d.name.isdigit():
                try:
                    stat = (d / "stat").read_text()
                except OSError:
                    continue
                if int(stat.rsplit(")", 1)[1].split()[1]) == self.proc.pid:
                    pids.append(int(d.name))
        return pids

    def peak_rss_mb(self) -> float:
        peaks = []
        for pid in self.worker_pids():
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    peaks.append(int(line.split()[1]) / 1024)
        return round(max(peaks), 1) if peaks else 0.0

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self.log.close()


def session_for(base: str, who: str):
    import requests

    s = requests.Session()
    login(lambda p: s.get(base + p, timeout=30).text, lambda p, d: s.post(base + p, data=d, timeout=30), who)
    return s


def wrk(url: str, cookie: str | None, duration: int, connections: int = 2) -> dict:
    cmd = ["wrk", "-t1", f"-c{connections}", f"-d{duration}s", "--timeout", "10s", "-s",
           str(Path(__file__).with_name("report.lua"))]
    if cookie:
        cmd += ["-H", f"Cookie: {cookie}"]
    before = load()
    out = subprocess.run([*cmd, url], capture_output=True, text=True, check=True).stdout  # nosec B603
    m = re.search(r"BENCH p50=(\d+) p95=(\d+) p99=(\d+) requests=(\d+) duration_us=(\d+) non2xx=(\d+) "
                  r"errors=(\d+)", out)
    p50, p95, p99, n, dur, non2xx, errors = map(int, m.groups())
    return {"p50_ms": round(p50 / 1000, 1), "p95_ms": round(p95 / 1000, 1), "p99_ms": round(p99 / 1000, 1),
            "rps": round(n / (dur / 1e6), 1), "requests": n, "non2xx": non2xx, "errors": errors,
            "load_before": before, "load_after": load()}


def login(client_get, client_post, login_name: str):
    page = client_get("/login")
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    client_post("/login", {"csrf_token": token, "login": login_name, "password": PASSWORD})
