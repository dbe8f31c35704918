"""`python -m sfemulator --host 127.0.0.1 --port 8765 --seed demo`: serve in the foreground."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from types import FrameType

from .cursors import MAX_OPEN_CURSORS
from .server import Emulator
from .store import MAX_REPLICATION_IDS


def _seed(value: str) -> str | int:
    return int(value) if value.isdigit() else value


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m sfemulator",
                                     description="Serve an emulated Salesforce org.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765, help="HTTPS port (API and login)")
    parser.add_argument("--http-port", type=int, default=None,
                        help="plain-HTTP port for the browser authorize page (default: port+1)")
    parser.add_argument("--seed", type=_seed, default="demo",
                        help="'demo', 'none', or a number of contacts to generate")
    parser.add_argument("--rng-seed", type=int, default=42)
    parser.add_argument("--seed-now", default=None, metavar="ISO-DATETIME",
                        help="anchor the seed calendar here (e.g. 2024-06-01T00:00:00Z) for "
                             "identical data on any day; default: today 00:00 UTC")
    parser.add_argument("--auto-approve", action="store_true",
                        help="skip the consent page and redirect at once")
    parser.add_argument("--token-ttl", type=int, default=7200, metavar="SECONDS")
    parser.add_argument("--rotate-refresh-tokens", action="store_true")
    parser.add_argument("--client-id", default="forcebridge-demo")
    parser.add_argument("--client-secret", default="demo-secret")
    parser.add_argument("--daily-api-limit", type=int, default=15000)
    parser.add_argument("--max-cursors", type=int, default=MAX_OPEN_CURSORS,
                        help="query cursors kept open at once; opening more drops the oldest")
    parser.add_argument("--max-replication-ids", type=int, default=MAX_REPLICATION_IDS,
                        help="ids getUpdated/getDeleted may return before answering "
                             "EXCEEDED_ID_LIMIT (Salesforce: 600000)")
    parser.add_argument("--data-dir", default=None,
                        help="where the CA and certificates live (default $SFEMULATOR_DATA or "
                             "./var/sfemulator)")
    parser.add_argument("--verbose", action="store_true", help="log every request")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    emulator = Emulator(
        host=args.host, port=args.port,
        http_port=args.http_port if args.http_port is not None else (
            args.port + 1 if args.port else 0),
        seed=args.seed, rng_seed=args.rng_seed, auto_approve=args.auto_approve,
        token_ttl=args.token_ttl, rotate_refresh_tokens=args.rotate_refresh_tokens,
        client_id=args.client_id, client_secret=args.client_secret,
        daily_api_limit=args.daily_api_limit, data_dir=args.data_dir,
        max_cursors=args.max_cursors, max_replication_ids=args.max_replication_ids,
        seed_now=args.seed_now,
    )
    print(f"Seeding org ({args.seed}) ...", flush=True)
    emulator.start()
    counts = {t.sobject.name: len(t.rows) for t in emulator.org.tables.values() if t.rows}
    print(
        f"sfemulator ready\n"
        f"  API base (instance_url):   {emulator.base_url}\n"
        f"  Production login host:     {emulator.login_url}\n"
        f"  Sandbox login host:        {emulator.sandbox_login_url}\n"
        f"  Browser authorize page:    {emulator.http_url}/services/oauth2/authorize\n"
        f"  Sandbox authorize page:    {emulator.sandbox_http_url}/services/oauth2/authorize\n"
        f"  Control API:               {emulator.base_url}/__emulator__/\n"
        f"  CA certificate:            {emulator.ca_path}\n"
        f"  Client id / secret:        {emulator.client_id} / {emulator.client_secret}\n"
        f"  Records:                   {counts}",
        flush=True,
    )
    stop = threading.Event()

    def _on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGINT, _on_signal)
    stop.wait()
    print("sfemulator stopping", flush=True)
    emulator.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
