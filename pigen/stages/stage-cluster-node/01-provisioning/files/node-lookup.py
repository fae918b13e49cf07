#!/usr/bin/python3
"""Finds this node in a bootstrap repository's config/nodes.yaml.

Usage: node-lookup.py NODES_YAML MAC SERIAL  (either may be empty)

nodes.yaml:
    nodes:
      - mac: "dc:a6:32:01:02:03"     # or serial: "1234abcd"; one of them at least
        hostname: node-1
        role: control
        address: 192.168.1.21/24     # optional; "dhcp" or absent for DHCP

Prints hostname=..., role=..., address=... (each value checked, so the shell
can read the lines as they are). Exit 2: the file cannot be used (named with
what is wrong); exit 3: no entry for this node. A MAC match wins over a serial
match; two entries for one node are refused.
"""
import re
import sys

import yaml

MAX_BYTES = 1 << 20
HOSTNAME = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")
ROLE = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
ADDRESS = re.compile(r"^((25[0-5]|2[0-4]\d|1?\d?\d)\.){3}(25[0-5]|2[0-4]\d|1?\d?\d)(/([0-9]|[12]\d|3[0-2]))?$")
MAC = re.compile(r"^([0-9a-f]{2}:){5}[0-9a-f]{2}$")
SERIAL = re.compile(r"^[0-9a-f]{1,32}$")


def fail(code, message):
    print(f"config/nodes.yaml: {message}", file=sys.stderr)
    sys.exit(code)


def normal_mac(value):
    return str(value).strip().lower().replace("-", ":")


def normal_serial(value):
    return str(value).strip().lower().removeprefix("0x")


def same_serial(entry, board):
    # As /proc/cpuinfo prints it (16 digits, leading zeros or not), or as network boot names a board: its last 8.
    entry, board = normal_serial(entry), normal_serial(board)
    return entry.lstrip("0") == board.lstrip("0") or (len(entry) == 8 and board[-8:].rjust(8, "0") == entry)


def main():
    if len(sys.argv) != 4:
        fail(2, "usage: node-lookup.py NODES_YAML MAC SERIAL")
    path, mac, serial = sys.argv[1], sys.argv[2].lower(), sys.argv[3].lower()
    with open(path, "rb") as f:
        text = f.read(MAX_BYTES + 1)
    if len(text) > MAX_BYTES:
        fail(2, f"larger than {MAX_BYTES} bytes")
    try:
        data = yaml.safe_load(text.decode("utf-8"))
    except (UnicodeDecodeError, yaml.YAMLError) as e:
        fail(2, f"not UTF-8 YAML: {str(e).splitlines()[0]}")
    if not isinstance(data, dict) or not isinstance(data.get("nodes"), list):
        fail(2, "has no list under nodes:")
    by_mac, by_serial = [], []
    for i, node in enumerate(data["nodes"], start=1):
        if not isinstance(node, dict):
            fail(2, f"entry {i} is not a mapping")
        if "mac" not in node and "serial" not in node:
            fail(2, f"entry {i} has neither mac nor serial")
        if "mac" in node and not MAC.match(normal_mac(node["mac"])):
            fail(2, f"entry {i}: mac {node['mac']!r} is not a MAC address")
        if "serial" in node and not SERIAL.match(normal_serial(node["serial"])):
            fail(2, f"entry {i}: serial {node['serial']!r} is not a board serial (hex)")
        if mac and "mac" in node and normal_mac(node["mac"]) == mac:
            by_mac.append((i, node))
        elif serial and "serial" in node and same_serial(node["serial"], serial):
            by_serial.append((i, node))
    found = by_mac or by_serial
    if not found:
        fail(3, f"no entry for this node (mac {mac or 'none'}, serial {serial or 'none'})")
    if len(found) > 1:
        fail(2, f"entries {', '.join(str(i) for i, _ in found)} all name this node")
    i, node = found[0]
    hostname = str(node.get("hostname", ""))
    role = str(node.get("role", ""))
    address = node.get("address")
    address = "" if address in (None, "dhcp") else str(address)
    if not HOSTNAME.match(hostname):
        fail(2, f"entry {i}: hostname {hostname!r} is not a host name (a-z 0-9 -, at most 63)")
    if not ROLE.match(role):
        fail(2, f"entry {i}: role {role!r} is not a role name (A-Z a-z 0-9 _ . -)")
    if address and not ADDRESS.match(address):
        fail(2, f"entry {i}: address {address!r} is not an IPv4 address (with an optional /prefix) or dhcp")
    print(f"hostname={hostname}\nrole={role}\naddress={address}")


main()
