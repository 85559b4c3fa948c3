#!/usr/bin/env python3
"""Hostile HTTP clients for test_gateway_edge.sh (standard library only).

  gateway_clients.py slow HOST PORT
      Sends a request head one byte a second and prints "cut after N bytes"
      once the server closes the connection, or "finished" if it never does
      (the head is far longer than the server's patience).
  gateway_clients.py idle HOST PORT COUNT SECONDS
      Opens COUNT connections that send nothing, prints "open N" once they
      are all established, holds them SECONDS, then prints how many the
      server had closed meanwhile ("closed N") and exits.
"""
import resource
import socket
import sys
import time


def slow(host, port):
    head = b"GET /api/v1/session HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 60 + b"\r\n\r\n"
    s = socket.create_connection((host, port))
    s.settimeout(1.5)
    sent = 0
    for byte in head:
        try:
            s.sendall(bytes([byte]))
            sent += 1
            if s.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT) == b"":
                break
        except BlockingIOError:
            pass
        except OSError:
            break
        time.sleep(1)
    else:
        print("finished", flush=True)
        return
    print(f"cut after {sent} bytes", flush=True)


def idle(host, port, count, seconds):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    socks = []
    for _ in range(count):
        socks.append(socket.create_connection((host, port)))
    print(f"open {len(socks)}", flush=True)
    time.sleep(seconds)
    closed = 0
    for s in socks:
        s.setblocking(False)
        try:
            if s.recv(1) == b"":
                closed += 1
        except BlockingIOError:
            pass
        except OSError:
            closed += 1
    print(f"closed {closed}", flush=True)


if __name__ == "__main__":
    if sys.argv[1] == "slow":
        slow(sys.argv[2], int(sys.argv[3]))
    else:
        idle(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5]))
