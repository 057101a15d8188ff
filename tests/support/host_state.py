"""What a program could change in the host's networking: firewall rules, interfaces, IP forwarding.

Tests take :func:`host_network_state` before, while and after a run and compare: local mode must never
change any of it. Reading the firewall needs root and ``iptables``; without them that part reads as ``None``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path


def _iptables(table: str) -> str | None:
    iptables = shutil.which("iptables") or ("/usr/sbin/iptables" if Path("/usr/sbin/iptables").exists() else None)
    if iptables is None or os.geteuid() != 0:
        return None
    done = subprocess.run([iptables, "-w", "-t", table, "-S"], capture_output=True, text=True, timeout=30, check=False)
    return done.stdout if done.returncode == 0 else None


def host_network_state() -> dict[str, object]:
    """Firewall rules (filter and nat tables), network interface names and ``ip_forward``."""
    forward = Path("/proc/sys/net/ipv4/ip_forward")
    return {
        "iptables_filter": _iptables("filter"),
        "iptables_nat": _iptables("nat"),
        "interfaces": sorted(os.listdir("/sys/class/net")) if Path("/sys/class/net").is_dir() else None,
        "ip_forward": forward.read_text().strip() if forward.exists() else None,
    }
