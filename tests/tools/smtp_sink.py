#!/usr/bin/env python3
"""An SMTP sink for Rollgate's notification tests (Debian's python3-aiosmtpd).

Listens on HOST:PORT and writes every message it accepts to DIR/NNNN.eml (the data exactly as
received, CRLF line ends) with DIR/NNNN.json beside it ({"mail_from", "rcpt_tos", "auth_user"}).
With --user and --password-env, clients must authenticate (AUTH PLAIN/LOGIN, allowed without TLS
on loopback) with that user and the password in that environment variable. Runs until killed;
writes DIR/ready once it accepts connections.
"""
import argparse
import asyncio
import json
import os
import signal
import sys

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


class Sink:
    def __init__(self, directory):
        self.directory = directory
        self.count = 0

    async def handle_DATA(self, server, session, envelope):
        self.count += 1
        base = os.path.join(self.directory, "%04d" % self.count)
        with open(base + ".eml.tmp", "wb") as f:
            f.write(envelope.original_content or envelope.content)
        user = session.auth_data.login.decode() if isinstance(session.auth_data, LoginPassword) else None
        with open(base + ".json", "w") as f:
            json.dump({"mail_from": envelope.mail_from, "rcpt_tos": envelope.rcpt_tos,
                       "auth_user": user}, f)
        os.rename(base + ".eml.tmp", base + ".eml")
        return "250 Message accepted for delivery"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--listen", required=True, help="HOST:PORT")
    parser.add_argument("--dir", required=True)
    parser.add_argument("--user")
    parser.add_argument("--password-env")
    args = parser.parse_args()
    host, port = args.listen.rsplit(":", 1)
    os.makedirs(args.dir, exist_ok=True)

    kwargs = {}
    if args.user:
        expected = os.environ.get(args.password_env or "", "")

        def authenticator(server, session, envelope, mechanism, auth_data):
            ok = (isinstance(auth_data, LoginPassword) and auth_data.login.decode() == args.user
                  and auth_data.password.decode() == expected)
            return AuthResult(success=ok, auth_data=auth_data if ok else None)

        kwargs = {"authenticator": authenticator, "auth_require_tls": False,
                  "auth_required": True}
    controller = Controller(Sink(args.dir), hostname=host, port=int(port), **kwargs)
    controller.start()
    with open(os.path.join(args.dir, "ready"), "w") as f:
        f.write("%d\n" % os.getpid())
    stop = asyncio.Event()
    loop = asyncio.new_event_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    loop.run_until_complete(stop.wait())
    controller.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
