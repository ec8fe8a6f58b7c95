"""Run the `assistant` CLI with every outbound network operation blocked (an audit hook raises).

Attempts are also written to stderr as NETWORK-ATTEMPT so a test can tell that none was even tried.
"""

import socket
import sys


def _hook(event: str, args: tuple) -> None:
    if event in ("socket.connect", "socket.sendto", "socket.sendmsg"):
        sock = args[0]
        if sock.family != socket.AF_UNIX:
            print(f"NETWORK-ATTEMPT {event} {args[1:]}", file=sys.stderr)
            raise ConnectionRefusedError(f"network blocked by test: {args[1:]}")
    elif event in ("socket.getaddrinfo", "socket.gethostbyname", "socket.gethostbyname_ex", "socket.gethostbyaddr"):
        print(f"NETWORK-ATTEMPT {event} {args[0]}", file=sys.stderr)
        raise ConnectionRefusedError(f"name lookup blocked by test: {args[0]}")


sys.addaudithook(_hook)

from assistant.cli import main  # noqa: E402

sys.exit(main(sys.argv[1:]))
