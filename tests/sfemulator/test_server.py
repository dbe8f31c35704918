"""Transport: TLS names, keep-alive, the plain-HTTP listener, the command line, ids."""

from __future__ import annotations

import http.client
import os
import ssl
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from sfemulator import Emulator
from sfemulator.ids import to18

ROOT = Path(__file__).resolve().parents[2]


def test_certificate_covers_both_login_hosts(org: Emulator, http: requests.Session) -> None:
    for base in (org.base_url, org.sandbox_login_url):
        assert http.get(f"{base}/services/data/").status_code == 200


def test_keep_alive_serves_many_requests_on_one_connection(org: Emulator,
                                                          token: dict) -> None:
    context = ssl.create_default_context(cafile=str(org.ca_path))
    connection = http.client.HTTPSConnection("127.0.0.1", org.port, context=context)
    headers = {"Authorization": f"Bearer {token['access_token']}"}
    try:
        connection.request("GET", "/services/data/v59.0/limits/", headers=headers)
        connection.getresponse().read()
        sock = connection.sock
        for _ in range(3):
            connection.request("GET", "/services/data/v59.0/limits/", headers=headers)
            reply = connection.getresponse()
            assert reply.status == 200 and reply.getheader("Connection") != "close"
            reply.read()
            assert connection.sock is sock  # the same socket: never reconnected
    finally:
        connection.close()


def test_untrusted_clients_fail_tls(org: Emulator) -> None:
    session = requests.Session()
    session.trust_env = False
    with pytest.raises(requests.exceptions.SSLError):
        session.get(f"{org.base_url}/services/data/")
    assert session.get(f"{org.base_url}/services/data/",
                       verify=str(org.ca_path)).status_code == 200


def test_certificates_are_reused_between_starts(tmp_path: Path) -> None:
    with Emulator.running(data_dir=tmp_path, http_port=None) as first:
        ca = first.ca_path.read_bytes()
    with Emulator.running(data_dir=tmp_path, http_port=None) as second:
        assert second.ca_path.read_bytes() == ca
        assert second.http_url is None


def test_ids_checksum() -> None:
    assert to18("001A0000006Vm9r") == "001A0000006Vm9rIAC"
    assert to18("a0D30000001n7Pi") == "a0D30000001n7PiEAI"
    assert to18("a0D30000001n7PiEAI") == "a0D30000001n7PiEAI"
    assert to18("a0D30000001n7PieaI") == "a0D30000001n7PiEAI"  # suffix case-insensitive
    assert to18("a0D30000001n7PiAAA") is None
    assert to18("too-short") is None


def test_command_line_prints_urls(tmp_path: Path) -> None:
    env = {**os.environ, "SFEMULATOR_DATA": str(tmp_path)}
    process = subprocess.Popen(
        [sys.executable, "-m", "sfemulator", "--port", "0", "--http-port", "0", "--seed",
         "20", "--seed-now", "2023-01-01T00:00:00Z", "--auto-approve",
         "--rotate-refresh-tokens", "--token-ttl", "60", "--max-cursors", "3",
         "--max-replication-ids", "500"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        lines = []
        assert process.stdout is not None
        for line in process.stdout:
            lines.append(line)
            if line.strip().startswith("Records:"):
                break
        output = "".join(lines)
        assert "API base (instance_url):   https://127.0.0.1:" in output
        assert "Browser authorize page:    http://127.0.0.1:" in output
        assert str(tmp_path / "ca.pem") in output
        base = next(line.split()[-1] for line in lines if "API base" in line)
        reply = requests.get(f"{base}/__emulator__/settings", verify=str(tmp_path / "ca.pem"))
        assert reply.json() == {"auto_approve": True, "token_ttl": 60,
                                "rotate_refresh_tokens": True, "max_cursors": 3,
                                "max_replication_ids": 500}
        contacts = requests.get(f"{base}/__emulator__/records/Contact",
                                verify=str(tmp_path / "ca.pem")).json()["records"]
        assert len(contacts) == 20
        assert max(c["CreatedDate"] for c in contacts) < "2023-01-01"  # --seed-now anchors
    finally:
        process.terminate()
        assert process.wait(timeout=10) == 0
