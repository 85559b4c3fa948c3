#!/usr/bin/python3
"""A real SMTP server on loopback for the notifier's tests: Debian's
python3-aiosmtpd (run with /usr/bin/python3, which has Debian's packages).

Listens on 127.0.0.1:PORT and records every message it accepts as one JSON
line {"mail_from", "rcpt_tos", "data"} appended to --log, data being the
message as received (header and body, CRLF line ends). --reject ADDR makes
RCPT TO:<ADDR> fail with 550 (a recipient refused for good). Writes its port to
--ready once it listens; stops on SIGTERM.
"""
import argparse
import json
import signal
import sys
import threading

from aiosmtpd.controller import Controller


class Sink:
    def __init__(self, log, reject):
        self.log = log
        self.reject = set(reject)
        self.lock = threading.Lock()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.reject:
            return "550 5.1.1 no such user here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        data = envelope.original_content or envelope.content
        if isinstance(data, bytes):
            data = data.decode("utf-8", "replace")
        with self.lock:
            self.log.write(json.dumps({"mail_from": envelope.mail_from,
                                       "rcpt_tos": envelope.rcpt_tos, "data": data},
                                      ensure_ascii=False) + "\n")
            self.log.flush()
        return "250 Message accepted for delivery"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--log", required=True)
    parser.add_argument("--ready", required=True)
    parser.add_argument("--reject", action="append", default=[])
    args = parser.parse_args()
    log = open(args.log, "a", encoding="utf-8")
    controller = Controller(Sink(log, args.reject), hostname="127.0.0.1", port=args.port)
    controller.start()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    with open(args.ready, "w") as ready:
        ready.write(str(args.port))
    while not stop.wait(0.5):
        pass
    controller.stop()
    log.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
