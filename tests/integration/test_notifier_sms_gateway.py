#!/usr/bin/python3
"""A stand-in SMS gateway for the notifier's tests (run with /usr/bin/python3).

Serves HTTP/1.1 on 127.0.0.1:PORT. Every POST is recorded, as one JSON line
{"path", "id", "to", "text", "status"} appended to --log, whatever the answer.
A POST of a JSON object {to, text, id} is answered 200 {"ok": true} unless told
to fail:
  --fail-first N      answer the first N message POSTs 503
  --fail-times PHONE=N  answer the first N POSTs to PHONE 503 (repeatable)
  POST /control       a JSON object changing behaviour at run time:
                        {"fail_next": N}   answer the next N message POSTs 503
                        {"fail_times": {PHONE: N}}   the next N POSTs to PHONE 503
                        {"fail_to": [PHONE, ...]}    always 503 for these numbers
                        {"reject_to": [PHONE, ...]}  always 400 for these numbers
  --delay-ms MS       wait this long before answering each message POST
A body that is not such an object is answered 400 and recorded with id null.
Writes its port to --ready once it listens; stops on SIGTERM.
"""
import argparse
import json
import signal
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

lock = threading.Lock()
state = {"fail_next": 0, "fail_times": {}, "fail_to": set(), "reject_to": set(), "delay": 0.0,
         "log": None}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out as two writes: without this, Nagle's algorithm
    # holds the body until the client's delayed ACK (40 ms a request).
    disable_nagle_algorithm = True

    def log_message(self, *args):  # quiet: the log file is the record
        pass

    def _answer(self, status, obj):
        data = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length)
        try:
            msg = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            msg = None
        if self.path == "/control":
            with lock:
                if isinstance(msg, dict):
                    if "fail_next" in msg:
                        state["fail_next"] = int(msg["fail_next"])
                    if "fail_times" in msg:
                        state["fail_times"] = {k: int(v) for k, v in msg["fail_times"].items()}
                    if "fail_to" in msg:
                        state["fail_to"] = set(msg["fail_to"])
                    if "reject_to" in msg:
                        state["reject_to"] = set(msg["reject_to"])
            self._answer(200, {"ok": True})
            return
        ok = isinstance(msg, dict) and all(isinstance(msg.get(k), str) for k in ("to", "text", "id"))
        if state["delay"]:
            time.sleep(state["delay"])
        with lock:
            if not ok:
                status = 400
            elif msg["to"] in state["reject_to"]:
                status = 400
            elif msg["to"] in state["fail_to"]:
                status = 503
            elif state["fail_times"].get(msg["to"], 0) > 0:
                state["fail_times"][msg["to"]] -= 1
                status = 503
            elif state["fail_next"] > 0:
                state["fail_next"] -= 1
                status = 503
            else:
                status = 200
            record = {"path": self.path, "id": msg.get("id") if ok else None,
                      "to": msg.get("to") if ok else None, "text": msg.get("text") if ok else None,
                      "status": status, "auth": self.headers.get("Authorization")}
            state["log"].write(json.dumps(record, ensure_ascii=False) + "\n")
            state["log"].flush()
        self._answer(status, {"ok": status == 200})


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--log", required=True)
    parser.add_argument("--ready", required=True)
    parser.add_argument("--fail-first", type=int, default=0)
    parser.add_argument("--fail-times", action="append", default=[])
    parser.add_argument("--delay-ms", type=float, default=0)
    args = parser.parse_args()
    state["fail_next"] = args.fail_first
    for item in args.fail_times:
        phone, _, times = item.partition("=")
        state["fail_times"][phone] = int(times)
    state["delay"] = args.delay_ms / 1000.0
    state["log"] = open(args.log, "a", encoding="utf-8")
    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    server.daemon_threads = True
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown).start())
    with open(args.ready, "w") as ready:
        ready.write(str(args.port))
    server.serve_forever()
    state["log"].close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
