"""A network of its own for the exfiltration tests, and what arrives at an attacker in it.

`isolated(argv)` runs a command in a new network and mount namespace (root, or a user
namespace where the kernel allows one): only loopback and a veth pair (10.99.0.1 ↔
10.99.0.2, so that WebRTC has an interface to gather candidates on), and /etc/resolv.conf
pointing at 127.0.0.53, where a DnsLogger answers and writes down every name asked. Nothing
in it can reach any other network, and everything in it ends with the command.

Where no namespace can be made, `isolated` returns None and a test runs on this machine's
loopback instead (the attacker on 127.0.0.2), where datagrams and connections are still
seen but DNS queries are not.
"""

from __future__ import annotations

import functools
import os
import shutil
import socket
import subprocess
import tempfile
import threading
from pathlib import Path

ATTACKER_IN_NAMESPACE = "10.99.0.2"
DNS_ADDRESS = ("127.0.0.53", 53)

SETUP = """set -e
ip link set lo up
ip link add sa0 type veth peer name sa1
ip addr add 10.99.0.1/24 dev sa0
ip addr add 10.99.0.2/24 dev sa1
ip link set sa0 up
ip link set sa1 up
mount --bind "$SA_RESOLV" /etc/resolv.conf
exec "$@"
"""


def _unshare_prefix() -> list[str] | None:
    if not (shutil.which("unshare") and shutil.which("ip") and shutil.which("mount")):
        return None
    root = hasattr(os, "geteuid") and os.geteuid() == 0
    prefix = ["unshare", "--net", "--mount", "--propagation", "private"]
    return prefix if root else [*prefix[:1], "--user", "--map-root-user", *prefix[1:]]


@functools.cache
def _setup_files() -> tuple[Path, Path]:
    folder = Path(tempfile.mkdtemp(prefix="sa-netns-"))
    resolv = folder / "resolv.conf"
    resolv.write_text(f"nameserver {DNS_ADDRESS[0]}\noptions timeout:1 attempts:1\n")
    script = folder / "setup.sh"
    script.write_text(SETUP)
    return resolv, script


@functools.cache
def available() -> bool:
    """Whether a namespace with the veth pair and our resolv.conf can be made here."""
    prefix = _unshare_prefix()
    if prefix is None:
        return False
    resolv, script = _setup_files()
    try:
        done = subprocess.run(
            [*prefix, "sh", str(script), "true"],
            env={**os.environ, "SA_RESOLV": str(resolv)},
            capture_output=True,
            timeout=30,
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0


def isolated(argv: list[str]) -> tuple[list[str], dict[str, str]] | None:
    """(argv run inside a namespace of its own, the environment it needs), or None."""
    if not available():
        return None
    prefix = _unshare_prefix()
    assert prefix is not None
    resolv, script = _setup_files()
    return [*prefix, "sh", str(script), *argv], {"SA_RESOLV": str(resolv)}


class Attacker:
    """A UDP and a TCP socket on one address (the same port): every datagram and connection."""

    def __init__(self, host: str):
        self.udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.udp.bind((host, 0))
        self.port = self.udp.getsockname()[1]
        self.tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.tcp.bind((host, self.port))
        self.tcp.listen(16)
        self.datagrams: list[bytes] = []
        self.connections: list[bytes] = []
        for target in (self._udp, self._tcp):
            threading.Thread(target=target, daemon=True).start()

    def _udp(self) -> None:
        while True:
            try:
                data, _ = self.udp.recvfrom(65536)
            except OSError:
                return
            self.datagrams.append(data)

    def _tcp(self) -> None:
        while True:
            try:
                client, _ = self.tcp.accept()
            except OSError:
                return
            client.settimeout(1)
            try:
                self.connections.append(client.recv(4096))
            except OSError:
                self.connections.append(b"")
            finally:
                client.close()

    def close(self) -> None:
        for sock in (self.udp, self.tcp):
            sock.close()


class DnsLogger:
    """A DNS server that knows no name: it writes each question down and answers NXDOMAIN."""

    def __init__(self, address: tuple[str, int] = DNS_ADDRESS):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(address)
        self.names: list[str] = []
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                query, peer = self.sock.recvfrom(4096)
            except OSError:
                return
            labels, i = [], 12
            try:
                while query[i]:
                    labels.append(query[i + 1 : i + 1 + query[i]].decode("ascii", "replace"))
                    i += query[i] + 1
            except IndexError:
                continue
            self.names.append(".".join(labels))
            # The same id and question, flagged as a response with RCODE 3 (no such name).
            answer = query[:2] + bytes([0x81, 0x83]) + query[4:6] + b"\0\0\0\0\0\0" + query[12 : i + 5]
            try:
                self.sock.sendto(answer, peer)
            except OSError:
                pass

    def close(self) -> None:
        self.sock.close()
