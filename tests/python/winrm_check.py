"""Drives a WinRM endpoint with pywinrm, an independent client, for the tests.

    winrm_check.py < spec.json

The spec comes on stdin (it holds passwords, which never go on a command line):
    {"checks": [{"name": str, "endpoint": "http://127.0.0.x:port/wsman",
                 "transport": "ntlm" | "basic" | "certificate" | ...,
                 "username": str | null, "password": str | null,
                 "session": {extra winrm.Session keyword arguments},
                 "run": "cmd" | "ps", "command": str, "args": [str], "script": str}]}
Prints one JSON array: per check {"name", "ok": true, "status_code", "std_out", "std_err",
"receives", "seconds"} or {"name", "ok": false, "error_type", "error", "seconds"}.
"""
import json
import sys
import time

import winrm


def run(check: dict) -> dict:
    started = time.monotonic()
    result = {"name": check["name"]}
    try:
        session = winrm.Session(
            check["endpoint"],
            auth=(check.get("username"), check.get("password")),
            transport=check["transport"],
            **check.get("session", {}),
        )
        # Counts the Receive round trips, to see output arrive over several of them.
        receives = 0
        receive = session.protocol.get_command_output_raw

        def counting_receive(*args, **kwargs):
            nonlocal receives
            receives += 1
            return receive(*args, **kwargs)

        session.protocol.get_command_output_raw = counting_receive
        if check["run"] == "ps":
            response = session.run_ps(check["script"])
        else:
            response = session.run_cmd(check["command"], check.get("args", []))
        result.update(
            ok=True,
            status_code=response.status_code,
            std_out=response.std_out.decode("utf-8", "replace"),
            std_err=response.std_err.decode("utf-8", "replace"),
            receives=receives,
        )
    except Exception as err:  # the test reads the failure
        result.update(ok=False, error_type=type(err).__name__, error=str(err))
    result["seconds"] = round(time.monotonic() - started, 3)
    return result


def main() -> None:
    spec = json.load(sys.stdin)
    print(json.dumps([run(check) for check in spec["checks"]]), flush=True)


if __name__ == "__main__":
    main()
