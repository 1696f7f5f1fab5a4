"""An independent NTLM peer (pyspnego) that tests drive over JSON lines on stdin/stdout.

    ntlm_peer.py acceptor            # credentials from NTLM_USER_FILE (DOMAIN:user:password lines)
    ntlm_peer.py initiator USER PASSWORD

Requests: {"op": "step", "token": b64|null} -> {"token": b64|null, "complete": bool}
          {"op": "wrap", "data": b64}        -> {"header": b64, "data": b64}
          {"op": "unwrap", "header": b64, "data": b64} -> {"data": b64}
Errors answer {"error": "..."}.
"""
import base64
import json
import sys

import spnego


def main() -> None:
    if sys.argv[1] == "acceptor":
        ctx = spnego.server(protocol="ntlm", service="http")
    else:
        ctx = spnego.client(sys.argv[2], sys.argv[3], hostname="winhost", service="http", protocol="ntlm")
    b64 = lambda b: base64.b64encode(b).decode() if b is not None else None
    for line in sys.stdin:
        req = json.loads(line)
        try:
            if req["op"] == "step":
                token = base64.b64decode(req["token"]) if req.get("token") else None
                out = ctx.step(token)
                answer = {"token": b64(out), "complete": ctx.complete}
            elif req["op"] == "wrap":
                res = ctx.wrap_winrm(base64.b64decode(req["data"]))
                answer = {"header": b64(res.header), "data": b64(res.data)}
            elif req["op"] == "unwrap":
                answer = {"data": b64(ctx.unwrap_winrm(base64.b64decode(req["header"]), base64.b64decode(req["data"])))}
            else:
                answer = {"error": f"unknown op {req['op']}"}
        except Exception as err:  # the test reads the failure
            answer = {"error": f"{type(err).__name__}: {err}"}
        print(json.dumps(answer), flush=True)


if __name__ == "__main__":
    main()
