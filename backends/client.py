"""A client inside a lab's Docker network, for experiments that need clients with their own
addresses (source hashing, source ACLs). From each SOURCE in turn, sends COUNT requests on
one keep-alive connection and prints, per answer, the source, the status and the X-Backend
header:

    python3 client.py http://haproxy:8700/path COUNT --source 172.16.7.10 --source 172.16.7.11 [--method POST] [--header "User-Agent: x"]

One container holds every client's address: run as root, with the NET_ADMIN and NET_RAW
capabilities of its own network namespace, `client.py --add-address 172.16.7.11/24 ...`
puts the addresses on its eth0 and announces them.
"""

import argparse
import errno
import http.client
import ipaddress
import socket
import struct
import urllib.parse

RTM_NEWADDR, NLM_F_REQUEST, NLM_F_ACK, NLM_F_CREATE, NLM_F_EXCL = 20, 0x1, 0x4, 0x400, 0x200
IFA_ADDRESS, IFA_LOCAL, NLMSG_ERROR = 1, 2, 2


def add_address(interface: str, address: ipaddress.IPv4Interface) -> None:
    """What `ip address add ADDRESS dev INTERFACE` does, with rtnetlink (the image has no iproute2)."""
    packed = address.ip.packed
    attributes = b"".join(struct.pack("=HH", 4 + len(packed), kind) + packed for kind in (IFA_LOCAL, IFA_ADDRESS))
    body = struct.pack("=BBBBI", socket.AF_INET, address.network.prefixlen, 0, 0,
                       socket.if_nametoindex(interface)) + attributes
    header = struct.pack("=IHHII", 16 + len(body), RTM_NEWADDR,
                         NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL, 1, 0)
    with socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, socket.NETLINK_ROUTE) as netlink:
        netlink.send(header + body)
        reply = netlink.recv(4096)
    kind, = struct.unpack_from("=H", reply, 4)
    error, = struct.unpack_from("=i", reply, 16)
    if kind == NLMSG_ERROR and error:
        raise SystemExit(f"cannot add {address} to {interface}: {errno.errorcode.get(-error, error)}")


def announce(interface: str, address: ipaddress.IPv4Address) -> None:
    """A gratuitous ARP for `address`: a neighbour that still has it under the MAC of the
    container that held it last (Docker derives a container's MAC from its first address)
    learns this one's, instead of sending its answers nowhere until its entry goes stale."""
    mac = bytes.fromhex(open(f"/sys/class/net/{interface}/address").read().strip().replace(":", ""))
    ip = address.packed
    frame = (b"\xff" * 6 + mac + struct.pack("!H", 0x0806)
             + struct.pack("!HHBBH", 1, 0x0800, 6, 4, 1) + mac + ip + b"\x00" * 6 + ip)
    with socket.socket(socket.AF_PACKET, socket.SOCK_RAW) as raw:
        raw.bind((interface, 0))
        raw.send(frame)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("url", nargs="?")
    parser.add_argument("count", type=int, nargs="?")
    parser.add_argument("--source", action="append", default=[],
                        help="an address a connection leaves from; one connection each, in turn")
    parser.add_argument("--method", default="GET")
    parser.add_argument("--header", action="append", default=[], help="Name: value")
    parser.add_argument("--add-address", action="append", default=[], type=ipaddress.IPv4Interface,
                        help="put this address/prefix on eth0 and exit")
    args = parser.parse_args()
    if args.add_address:
        for address in args.add_address:
            add_address("eth0", address)
            announce("eth0", address.ip)
        return
    parts = urllib.parse.urlsplit(args.url)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    headers = dict(h.split(": ", 1) for h in args.header)
    for source in args.source or [None]:
        connection = http.client.HTTPConnection(parts.hostname, parts.port or 80, timeout=60,
                                                source_address=(source, 0) if source else None)
        for _ in range(args.count):
            connection.request(args.method, target, headers=headers)
            response = connection.getresponse()
            response.read()
            print(source or "-", response.status, response.getheader("X-Backend", "-"), flush=True)
        connection.close()

if __name__ == "__main__":
    main()
