"""A client inside a lab's Docker network, for experiments that need clients with their own
addresses (source hashing, source ACLs). Sends COUNT requests with one keep-alive
connection and prints, per answer, the status and the X-Backend header:

    python3 client.py http://haproxy:8700/path COUNT [METHOD]
"""

import http.client
import sys
import urllib.parse


def main(url, count, method="GET"):
    parts = urllib.parse.urlsplit(url)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    connection = http.client.HTTPConnection(parts.hostname, parts.port or 80, timeout=60)
    for _ in range(int(count)):
        connection.request(method, target)
        response = connection.getresponse()
        response.read()
        print(response.status, response.getheader("X-Backend", "-"), flush=True)


if __name__ == "__main__":
    main(*sys.argv[1:])
