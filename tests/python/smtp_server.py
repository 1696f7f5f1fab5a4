"""A real SMTP server for the notification tests: aiosmtpd on loopback, STARTTLS required before
AUTH (PLAIN/LOGIN) with one user name and password, every accepted message printed to stdout as one
JSON line. Usage: smtp_server.py <port> <cert.pem> <key.pem> <user> <password-file>"""
import asyncio
import json
import ssl
import sys

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


class Recorder:
    async def handle_DATA(self, server, session, envelope):
        print(json.dumps({
            "from": envelope.mail_from,
            "to": envelope.rcpt_tos,
            "tls": session.ssl is not None,
            "user": session.authenticated and session.auth_data.login.decode() if isinstance(session.auth_data, LoginPassword) else None,
            "data": envelope.content.decode("utf8", "replace"),
        }), flush=True)
        return "250 OK"


def main():
    port, cert, key, user = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
    with open(sys.argv[5], encoding="utf8") as f:
        password = f.read()
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)

    def authenticator(server, session, envelope, mechanism, auth_data):
        ok = isinstance(auth_data, LoginPassword) and auth_data.login.decode() == user and auth_data.password.decode() == password
        # handled=False: the server answers 535 itself (handled=True would leave the client waiting).
        return AuthResult(success=ok, handled=False, auth_data=auth_data if ok else None)

    controller = Controller(
        Recorder(), hostname="127.0.0.1", port=port, tls_context=context, require_starttls=True,
        auth_require_tls=True, authenticator=authenticator, auth_exclude_mechanism=["CRAM-MD5"],
    )
    controller.start()
    print(json.dumps({"ready": port}), flush=True)
    try:
        asyncio.get_event_loop().run_forever()
    except KeyboardInterrupt:
        pass
    finally:
        controller.stop()


if __name__ == "__main__":
    main()
