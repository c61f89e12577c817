"""Runs moto's AWS emulator on 127.0.0.1 and prints `READY <endpoint>` once it serves.

    python scripts/moto_server.py [--port N] [--until-stdin-closes]

With --until-stdin-closes the server stops when its standard input reaches end of
file: the test harness holds the pipe, so the server never outlives the tests.
Otherwise it runs until SIGINT/SIGTERM (the main job's trap stops it).
"""
import argparse
import signal
import socket
import sys
import threading

from moto.server import ThreadedMotoServer


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--until-stdin-closes", action="store_true")
    args = parser.parse_args()
    port = args.port or free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    print(f"READY http://127.0.0.1:{port}", flush=True)
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    signal.signal(signal.SIGINT, lambda *_: done.set())
    if args.until_stdin_closes:
        threading.Thread(target=lambda: (sys.stdin.read(), done.set()), daemon=True).start()
    done.wait()
    server.stop()


if __name__ == "__main__":
    main()
