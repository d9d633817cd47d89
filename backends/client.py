"""A client inside a lab's Docker network, for experiments that need clients with their own
addresses (source hashing, source ACLs). Sends COUNT requests on one keep-alive connection
and prints, per answer, the status and the X-Backend header:

    python3 client.py http://haproxy:8700/path COUNT [--method POST] [--header "User-Agent: x"]
"""

import argparse
import http.client
import urllib.parse


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    parser.add_argument("count", type=int)
    parser.add_argument("--method", default="GET")
    parser.add_argument("--header", action="append", default=[], help="Name: value")
    args = parser.parse_args()
    parts = urllib.parse.urlsplit(args.url)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    headers = dict(h.split(": ", 1) for h in args.header)
    connection = http.client.HTTPConnection(parts.hostname, parts.port or 80, timeout=60)
    for _ in range(args.count):
        connection.request(args.method, target, headers=headers)
        response = connection.getresponse()
        response.read()
        print(response.status, response.getheader("X-Backend", "-"), flush=True)


if __name__ == "__main__":
    main()
