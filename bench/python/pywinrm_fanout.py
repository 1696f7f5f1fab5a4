"""pywinrm baseline for bench:winrm: `hostname` on every host at once, one thread and one
Session per host (NTLM with message encryption over HTTP), the way a Python fan-out does it.
Reads {"hosts": [{"url", "user", "password"}], "rounds": n} on stdin; prints one JSON line per round."""
import json
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import winrm


def main() -> None:
    spec = json.load(sys.stdin)
    hosts = spec["hosts"]
    sessions = [winrm.Session(h["url"], auth=(h["user"], h["password"]), transport="ntlm", message_encryption="always") for h in hosts]

    def one(session: winrm.Session) -> float:
        started = time.perf_counter()
        result = session.run_cmd("hostname")
        if result.status_code != 0:
            raise RuntimeError(result.std_err.decode())
        return (time.perf_counter() - started) * 1000

    with ThreadPoolExecutor(max_workers=len(sessions)) as pool:
        for _ in range(spec["rounds"]):
            started = time.perf_counter()
            per_host = list(pool.map(one, sessions))
            print(json.dumps({"wallMs": (time.perf_counter() - started) * 1000, "perHostMs": per_host}), flush=True)


if __name__ == "__main__":
    main()
