"""API latency under concurrent load: listing a page of one's tasks and saving annotations, against the health
check (the floor of the HTTP stack), same server, same load, same run.

    .venv/bin/python bench/api.py [--studies 10000] [--users 20] [--clients 20] [--seconds 20] [--warmup 2] \
        [--threads 2 [8 ...]] [--think 0 1] [--solo 3] [--spans 2] [--postgres [ADMIN_URL]] [--database URL] \
        [--no-sqlite]

Per database: seed a project of N studies, each with a report (a document) and one annotate task, tasks
assigned round robin to `--users` annotators, `--spans` span annotations per study; one bearer token per user.
Seeding uses bulk inserts in the app context (not the API; no audit events for the seed rows) and is not timed.
Then the real server runs as a subprocess (`hilum serve` on a free port on 127.0.0.1, waitress with `--threads`)
and `--clients` threads, each with its own keep-alive `http.client` connection and its user's token, cycle
through four requests for `--seconds`, once per `--think` value: back to back (0, the default first phase: the
server saturated, so latency is mostly queueing) and pausing a random 1 s on average in between (the default
second phase: an annotator who saves about once a second; the issue does not say which it means, so both print):

  tasks   GET   /api/v1/projects/{id}/tasks?assignee=me&per_page=50&page=P   (a random page of their ~N/users)
  patch   PATCH /api/v1/annotations/{id}  {"label": ..., "version": <current>} (an annotation only this client
          edits, so 409s mean a bug, not contention)
  post    POST  /api/v1/studies/{id}/annotations  a new span on the study's report
  health  GET   /api/v1/health                                               (the peer: the floor)

Each client starts the cycle at a different step, so all four are measured under the same mix. Requests that
start within the first `--warmup` seconds are not counted. Before the load, one client alone runs the same
cycle for `--solo` seconds: the service time of each request without queueing. Latency is client-side, from
sending the request to having read the whole response; clients and server share the machine's cores.
Targets from the issue: p95 of a save (patch, post) < 50 ms; p95 of a page of tasks < 300 ms.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import socket
import subprocess
import sys
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import _common

OPS = ("tasks", "patch", "post", "health")
TARGETS_MS = {"patch": 50.0, "post": 50.0, "save": 50.0, "tasks": 300.0}
REPORT = (
    "EXAMINATION: CT chest with contrast, study {i}.\n"
    "CLINICAL HISTORY: Cough and weight loss. Former smoker.\n"
    "FINDINGS: There is a {size} mm spiculated nodule in the right upper lobe abutting the pleura. "
    "No mediastinal or hilar lymphadenopathy. The heart is normal in size. No pericardial effusion. "
    "Mild centrilobular emphysema. No pleural effusion or pneumothorax. The visualized upper abdomen is "
    "unremarkable. Degenerative changes of the thoracic spine.\n"
    "IMPRESSION: {size} mm right upper lobe nodule, suspicious for malignancy; PET-CT and tissue sampling "
    "are recommended. Emphysema.\n"
)


# ---------------------------------------------------------------- seeding


@dataclass
class Seed:
    project_id: int
    tokens: list[str]  # per user
    tasks_per_user: list[int]
    # per study index: (study id, document id, document length)
    studies: list[tuple[int, int, int]]
    # per study index: [annotation ids]
    spans: dict[int, list[int]]
    labels: list[str]
    versions: dict[int, int] = field(default_factory=dict)  # annotation id → version, as the clients know it


def seed(app: Any, n_studies: int, n_users: int, spans_per_study: int) -> Seed:
    """Bulk-insert the project; return what the clients need."""
    from sqlalchemy import insert, select

    from server import db, projects
    from server.auth import hash_password, issue_token
    from server.models import (
        Annotation,
        AnnotationKind,
        AnnotationStatus,
        Document,
        DocumentKind,
        Membership,
        Role,
        Study,
        Task,
        TaskStage,
        TaskStatus,
        User,
    )

    chunk = 2000
    with app.app_context():
        s = db.session()
        project = projects.create_project(s, f"bench-api-{time.time_ns()}", actor="bench")
        labels = list(project.label_schema["spans"])
        digest = hash_password("bench-password")
        stamp = time.time_ns()
        names = [f"bench{stamp}_{k:03d}" for k in range(n_users)]
        s.execute(insert(User), [{"username": n, "password_hash": digest} for n in names])
        users = list(s.execute(select(User).where(User.username.in_(names)).order_by(User.id)).scalars())
        s.execute(
            insert(Membership),
            [{"user_id": u.id, "project_id": project.id, "role": Role.ANNOTATOR} for u in users],
        )
        for lo in range(0, n_studies, chunk):
            s.execute(
                insert(Study),
                [
                    {
                        "project_id": project.id,
                        "study_uid": f"2.25.{stamp}{i:07d}",
                        "accession_number": f"ACC{i:07d}",
                        "modality": "CT",
                        "description": "CT chest",
                    }
                    for i in range(lo, min(n_studies, lo + chunk))
                ],
            )
        study_ids = list(s.execute(select(Study.id).where(Study.project_id == project.id).order_by(Study.id)).scalars())
        texts = [REPORT.format(i=i, size=5 + i % 30) for i in range(n_studies)]
        for lo in range(0, n_studies, chunk):
            s.execute(
                insert(Document),
                [
                    {
                        "study_id": study_ids[i],
                        "kind": DocumentKind.REPORT,
                        "source": "upload",
                        "version": 1,
                        "text": texts[i],
                    }
                    for i in range(lo, min(n_studies, lo + chunk))
                ],
            )
        doc_of = dict(
            s.execute(select(Document.study_id, Document.id).join(Study).where(Study.project_id == project.id)).all()
        )
        for lo in range(0, n_studies, chunk):
            s.execute(
                insert(Task),
                [
                    {
                        "project_id": project.id,
                        "study_id": study_ids[i],
                        "assignee_id": users[i % n_users].id,
                        "stage": TaskStage.ANNOTATE,
                        "status": TaskStatus.OPEN,
                        "version": 1,
                    }
                    for i in range(lo, min(n_studies, lo + chunk))
                ],
            )
        rows = []
        for i in range(n_studies):
            user = users[i % n_users]
            for k in range(spans_per_study):
                start = 20 + 40 * k
                rows.append(
                    {
                        "project_id": project.id,
                        "study_id": study_ids[i],
                        "kind": AnnotationKind.SPAN,
                        "label": labels[k % len(labels)],
                        "status": AnnotationStatus.ACCEPTED,
                        "document_id": doc_of[study_ids[i]],
                        "start": start,
                        "end": start + 10,
                        "text": texts[i][start : start + 10],
                        "concepts": [],
                        "attributes": {},
                        "author_id": user.id,
                        "source": f"user:{user.username}",
                        "version": 1,
                    }
                )
        for lo in range(0, len(rows), chunk):
            s.execute(insert(Annotation), rows[lo : lo + chunk])
        index_of = {sid: i for i, sid in enumerate(study_ids)}
        spans: dict[int, list[int]] = defaultdict(list)
        for ann_id, study_id in s.execute(
            select(Annotation.id, Annotation.study_id)
            .where(Annotation.project_id == project.id)
            .order_by(Annotation.id)
        ):
            spans[index_of[study_id]].append(ann_id)
        versions = {a: 1 for ids in spans.values() for a in ids}
        tokens = [issue_token(u, name="bench")[1] for u in users]
        s.commit()
        return Seed(
            project_id=project.id,
            tokens=tokens,
            tasks_per_user=[len(range(k, n_studies, n_users)) for k in range(n_users)],
            studies=[(sid, doc_of[sid], len(texts[i])) for i, sid in enumerate(study_ids)],
            spans=dict(spans),
            labels=labels,
            versions=versions,
        )


# ---------------------------------------------------------------- the server


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Server:
    """`hilum serve` in a subprocess on 127.0.0.1, stopped (terminate, then kill) on exit."""

    def __init__(self, instance: str, url: str, threads: int, workers: int = 1):
        self.port = free_port()
        self.log_path = os.path.join(instance, "server.log")
        env = {
            **os.environ,
            "HILUM_INSTANCE_PATH": instance,
            "HILUM_DATABASE_URL": url,
            "HILUM_LOG_LEVEL": "WARNING",
        }
        cmd = [sys.executable, "-c", "from server.cli import main; main()", "serve", "--host", "127.0.0.1"]
        cmd += ["--port", str(self.port), "--threads", str(threads), "--workers", str(workers)]
        self.log = open(self.log_path, "wb")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(cmd, env=env, stdout=self.log, stderr=subprocess.STDOUT)

    def wait_ready(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the server exited ({self.proc.returncode}):\n{self.tail()}")
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
                conn.request("GET", "/api/v1/health")
                if conn.getresponse().status == 200:
                    conn.close()
                    return
            except OSError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"the server did not answer within {timeout:.0f}s:\n{self.tail()}")

    def tail(self, lines: int = 20) -> str:
        self.log.flush()
        with open(self.log_path, "rb") as f:
            return "\n".join(f.read().decode(errors="replace").splitlines()[-lines:])

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(10)
        self.log.close()


# ---------------------------------------------------------------- the clients


@dataclass
class Client:
    """One simulated annotator: a keep-alive connection, a token, the studies it writes to."""

    port: int
    token: str
    project_id: int
    pages: int
    studies: list[tuple[int, int, int]]
    annotations: list[int]  # the annotations only this client edits
    versions: dict[int, int]  # annotation id → current version, shared by every client of the run
    labels: list[str]
    offset: int
    rng: random.Random
    think: float = 0.0
    samples: list[tuple[str, float, float, int]] = field(default_factory=list)  # op, start, ms, status
    done: int = 0  # requests completed, warm-up included
    conn: http.client.HTTPConnection | None = None

    def request(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        headers = {"Authorization": f"Bearer {self.token}"}
        payload = None
        if body is not None:
            payload = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        for attempt in (1, 2):
            if self.conn is None:
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
            try:
                self.conn.request(method, path, body=payload, headers=headers)
                resp = self.conn.getresponse()
                data = resp.read()
                if resp.getheader("Connection", "").lower() == "close":
                    self.conn.close()
                    self.conn = None
                return resp.status, json.loads(data) if data else None
            except (OSError, http.client.HTTPException):
                self.conn.close()
                self.conn = None
                if attempt == 2:
                    return 0, None
        return 0, None

    def step(self, op: str) -> int:
        if op == "health":
            return self.request("GET", "/api/v1/health")[0]
        if op == "tasks":
            page = self.rng.randint(1, self.pages)
            path = f"/api/v1/projects/{self.project_id}/tasks?assignee=me&per_page=50&page={page}"
            status, body = self.request("GET", path)
            if status == 200 and len(body["items"]) == 0:
                return 599  # an empty page would flatter the figure
            return status
        if op == "patch":
            ann_id = self.rng.choice(self.annotations)
            version = self.versions[ann_id]
            body = {"label": self.rng.choice(self.labels), "version": version}
            status, out = self.request("PATCH", f"/api/v1/annotations/{ann_id}", body)
            if status == 200:
                self.versions[ann_id] = out["version"]
            elif status == 409 and isinstance(out, dict) and isinstance(out.get("current"), dict):
                self.versions[ann_id] = out["current"]["version"]
            return status
        study_id, doc_id, length = self.rng.choice(self.studies)
        start = self.rng.randrange(0, length - 20)
        body = {
            "kind": "span",
            "label": self.rng.choice(self.labels),
            "document_id": doc_id,
            "start": start,
            "end": start + self.rng.randint(3, 15),
        }
        return self.request("POST", f"/api/v1/studies/{study_id}/annotations", body)[0]

    def run(self, begin: float, warm_until: float, deadline: float) -> None:
        k = self.offset
        while time.perf_counter() < deadline:
            op = OPS[k % len(OPS)]
            k += 1
            t0 = time.perf_counter()
            status = self.step(op)
            ms = (time.perf_counter() - t0) * 1000
            self.done += 1
            if t0 >= warm_until:
                self.samples.append((op, t0 - begin, ms, status))
            if self.think:
                time.sleep(min(self.rng.expovariate(1 / self.think), max(0.0, deadline - time.perf_counter())))
        if self.conn is not None:
            self.conn.close()


def make_clients(port: int, data: Seed, n: int, think: float = 0.0) -> list[Client]:
    clients = []
    n_users = len(data.tokens)
    for c in range(n):
        mine = [i for i in range(c, len(data.studies), n)]
        clients.append(
            Client(
                port=port,
                token=data.tokens[c % n_users],
                project_id=data.project_id,
                pages=max(1, -(-data.tasks_per_user[c % n_users] // 50)),
                studies=[data.studies[i] for i in mine],
                annotations=[a for i in mine for a in data.spans.get(i, [])],
                versions=data.versions,
                labels=data.labels,
                offset=c,
                rng=random.Random(c),
                think=think,
            )
        )
    if any(not c.annotations for c in clients):
        sys.exit("every client needs annotations of its own: use --spans >= 1 and --studies >= --clients")
    return clients


@dataclass
class Phase:
    """One load phase: the measured samples, and where the CPU went over the whole phase (warm-up included)."""

    samples: list[tuple[str, float, float, int]]
    requests: int  # completed, warm-up included
    wall: float
    server_cpu: float  # seconds of CPU the server process used
    client_cpu: float  # seconds of CPU this process (the load generator) used

    def cpu_line(self) -> str:
        per = self.server_cpu / max(self.requests, 1) * 1000
        return (
            f"  CPU: server {self.server_cpu / self.wall:.0%} of one core ({per:.2f} ms per request), "
            f"load generator {self.client_cpu / self.wall:.0%} of one core; {os.cpu_count()} cores"
        )


def process_cpu(pid: int) -> float:
    """User + system CPU seconds so far of process `pid` and its children (`--workers`); Linux /proc, 0 elsewhere."""

    def stat(p: str) -> list[str]:
        try:
            with open(f"/proc/{p}/stat") as f:
                return f.read().rsplit(")", 1)[1].split()
        except OSError:
            return []

    pids = [str(pid)] + [p for p in os.listdir("/proc") if p.isdigit() and stat(p)[1:2] == [str(pid)]] \
        if os.path.isdir("/proc") else []
    ticks = sum(int(f[11]) + int(f[12]) for f in map(stat, pids) if f)
    return ticks / os.sysconf("SC_CLK_TCK") if pids else 0.0


def measured(pid: int, clients: list[Client], seconds: float, warmup: float) -> Phase:
    """`load`, with the server's and this process's CPU time over the phase."""
    wall, server, mine = time.perf_counter(), process_cpu(pid), time.process_time()
    samples = load(clients, seconds, warmup)
    return Phase(samples, sum(c.done for c in clients), time.perf_counter() - wall,
                 process_cpu(pid) - server, time.process_time() - mine)


def load(clients: list[Client], seconds: float, warmup: float) -> list[tuple[str, float, float, int]]:
    """Run every client for `warmup` + `seconds`; the samples of requests started after the warm-up."""
    begin = time.perf_counter()
    warm_until = begin + warmup
    deadline = warm_until + seconds
    threads = [threading.Thread(target=c.run, args=(begin, warm_until, deadline), daemon=True) for c in clients]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=max(1.0, deadline - time.perf_counter()) + 60)  # a hung request times out at 30 s
    return [s for c in clients for s in c.samples]


# ---------------------------------------------------------------- report


def report(samples: list[tuple[str, float, float, int]], seconds: float, targets: bool = True) -> None:
    by_op: dict[str, list[tuple[float, int]]] = defaultdict(list)
    for op, _start, ms, status in samples:
        by_op[op].append((ms, status))
        if op in ("patch", "post"):
            by_op["save"].append((ms, status))
    rows = [["request", "n", "errors", "req/s", "p50 ms", "p95 ms", "p99 ms", "max ms", "target p95", ""]]
    for op in (*OPS, "save"):
        got = by_op.get(op, [])
        ok = sorted(ms for ms, status in got if 200 <= status < 300)
        errors = len(got) - len(ok)
        p50, p95, p99 = (_common.percentile(ok, q) for q in (50, 95, 99))
        target = TARGETS_MS.get(op) if targets else None
        verdict = "" if target is None else ("ok" if p95 < target else "MISSED")
        if op == "health" and targets:
            verdict = "(floor)"
        label = "save (patch+post)" if op == "save" else op
        rows.append(
            [
                label,
                str(len(got)),
                str(errors),
                f"{len(got) / seconds:.0f}" if op != "save" else "",
                f"{p50:.1f}",
                f"{p95:.1f}",
                f"{p99:.1f}",
                f"{ok[-1]:.1f}" if ok else "nan",
                f"< {target:.0f}" if target else "",
                verdict,
            ]
        )
    print(_common.table(rows))
    statuses: dict[str, dict[int, int]] = defaultdict(lambda: defaultdict(int))
    for op, _start, _ms, status in samples:
        if not 200 <= status < 300:
            statuses[op][status] += 1
    for op, counts in statuses.items():
        print(f"  {op} non-2xx: " + ", ".join(f"{k or 'connection error'}: {v}" for k, v in sorted(counts.items())))
    total = len(samples)
    print(f"  throughput: {total / seconds:.0f} requests/s over {seconds:.0f} s; machine: {_common.machine()}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--studies", type=int, default=10_000)
    parser.add_argument("--users", type=int, default=20, help="annotators the tasks are assigned across")
    parser.add_argument("--clients", type=int, default=20, help="concurrent client threads")
    parser.add_argument("--seconds", type=float, default=20.0, help="measured duration per database")
    parser.add_argument("--warmup", type=float, default=2.0, help="seconds of load before measuring")
    parser.add_argument(
        "--threads",
        type=int,
        nargs="+",
        default=[2],
        help="request threads per server process (hilum serve's default: 2), one server run per value",
    )
    parser.add_argument(
        "--think",
        type=float,
        nargs="+",
        default=[0.0, 1.0],
        help="mean pause in seconds between one client's requests (exponential), one load phase per value "
        "(default: 0 = back to back, the server saturated; then 1 = an annotator saving about once a second)",
    )
    parser.add_argument(
        "--workers",
        type=int,
        nargs="+",
        default=[1],
        help="server processes (`hilum serve --workers`), one server run per value (e.g. --workers 1 2)",
    )
    parser.add_argument("--spans", type=int, default=2, help="span annotations seeded per study")
    parser.add_argument(
        "--solo", type=float, default=3.0, help="seconds of one client alone first, for service times (0: skip)"
    )
    _common.add_database_options(parser)
    args = parser.parse_args()

    for target in _common.targets(args):
        with _common.instance_folder("hilum-bench-api-") as instance, _common.database(target, instance) as url:
            t0 = time.perf_counter()
            app = _common.build_app(instance, url)
            try:
                data = seed(app, args.studies, args.users, args.spans)
            finally:
                _common.close_app(app)
            print(
                f"\n[{target.label}] {args.studies} studies (1 report, 1 task, {args.spans} spans each), "
                f"{args.users} users, tokens issued; seeded in {time.perf_counter() - t0:.1f}s"
            )
            for workers in args.workers:
                for threads in args.threads:
                    run_server(instance, url, data, args, workers, threads)


def run_server(instance: str, url: str, data: Seed, args: argparse.Namespace, workers: int, threads: int) -> None:
    """One server run: the solo phase, then one load phase per `--think` value; print each."""
    server = Server(instance, url, threads, workers)
    try:
        server.wait_ready()
        print(
            f"  server: hilum serve on 127.0.0.1:{server.port}, {workers} process(es) x {threads} threads; "
            f"{args.clients} clients for {args.seconds:.0f}s after {args.warmup:.0f}s warm-up per phase"
        )
        pid = server.proc.pid
        if args.solo:
            solo = measured(pid, make_clients(server.port, data, 1), args.solo, 0.5)
        phases = [
            (think, measured(pid, make_clients(server.port, data, args.clients, think), args.seconds, args.warmup))
            for think in args.think
        ]
    finally:
        server.stop()
    if args.solo:
        print(f"  one client alone, {args.solo:.0f}s (service time without contention):")
        report(solo.samples, args.solo, targets=False)
        print(solo.cpu_line())
    for think, phase in phases:
        pace = f"mean think time {think:g}s between requests" if think else "back to back, no think time"
        print(f"  {args.clients} concurrent clients, {pace}, {args.seconds:.0f}s ({workers} server process(es)):")
        report(phase.samples, args.seconds)
        print(phase.cpu_line())


if __name__ == "__main__":
    main()
