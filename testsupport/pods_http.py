"""HTTP requests to a pod's port from inside its network namespace (``Pod.in_network``), as the
kubelet's probes and the ingress would send them. Run as a script, it prints one JSON object:

    python -m testsupport.pods_http probe  PORT PATH PERIOD FAILURES
    python -m testsupport.pods_http get    PORT PATH HOST
    python -m testsupport.pods_http staff  PORT PATH HOST USERNAME PASSWORD

``probe`` asks like an httpGet probe (by IP, no host name) until it gets a 2xx/3xx answer or
FAILURES attempts PERIOD seconds apart failed. ``get`` and ``staff`` come as the ingress would
forward a browser's HTTPS request (Host, X-Forwarded-Proto: https); ``staff`` first signs in
through the admin's login form (its CSRF token and cookies), then asks for PATH.
"""

from __future__ import annotations

import http.client
import json
import re
import sys
import time
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import urlencode


def request(
    port: int, method: str, path: str, headers: dict[str, str], body: str | None = None
) -> tuple[int, dict[str, str], list[str], str]:
    """(status, headers, Set-Cookie values, body) of one request; never follows a redirect."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        cookies = response.headers.get_all("Set-Cookie") or []
        return (
            response.status,
            dict(response.headers.items()),
            cookies,
            response.read().decode(errors="replace"),
        )
    finally:
        connection.close()


def probe(port: int, path: str, period: float, failures: int) -> dict[str, Any]:
    for attempt in range(1, failures + 1):
        try:
            status, _, _, body = request(port, "GET", path, {"Host": f"127.0.0.1:{port}"})
        except OSError as exc:
            status, body = 0, f"{type(exc).__name__}: {exc}"
        if 200 <= status < 400:
            return {"status": status, "attempts": attempt, "body": body}
        time.sleep(period)
    return {"status": status, "attempts": failures, "body": body}


def ingress(host: str, cookies: dict[str, str] | None = None) -> dict[str, str]:
    headers = {"Host": host, "X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.9"}
    if cookies:
        headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in cookies.items())
    return headers


def remember(jar: dict[str, str], set_cookies: list[str]) -> None:
    for value in set_cookies:
        for name, morsel in SimpleCookie(value).items():
            jar[name] = morsel.value


def get(port: int, path: str, host: str) -> dict[str, Any]:
    status, headers, _, body = request(port, "GET", path, ingress(host))
    return {"status": status, "location": headers.get("Location", ""), "body": body[:20000]}


def staff(port: int, path: str, host: str, username: str, password: str) -> dict[str, Any]:
    jar: dict[str, str] = {}
    login = f"/admin/login/?next={path}"
    status, _, cookies, body = request(port, "GET", login, ingress(host))
    remember(jar, cookies)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', body)
    if status != 200 or token is None:
        return {"step": "login form", "status": status, "body": body[:2000]}
    form = urlencode(
        {"csrfmiddlewaretoken": token.group(1), "username": username, "password": password, "next": path}
    )
    headers = {
        **ingress(host, jar),
        "Content-Type": "application/x-www-form-urlencoded",
        "Referer": f"https://{host}{login}",
        "Origin": f"https://{host}",
    }
    status, response_headers, cookies, body = request(port, "POST", login, headers, form)
    remember(jar, cookies)
    if status != 302 or "sessionid" not in jar:
        return {"step": "sign in", "status": status, "body": body[:2000]}
    status, _, _, body = request(port, "GET", path, ingress(host, jar))
    return {
        "step": "page",
        "status": status,
        "redirected_to": response_headers.get("Location"),
        "body": body[:50000],
    }


def main(args: list[str]) -> dict[str, Any]:
    action, port, path, *rest = args
    if action == "probe":
        return probe(int(port), path, float(rest[0]), int(rest[1]))
    if action == "get":
        return get(int(port), path, rest[0])
    if action == "staff":
        return staff(int(port), path, *rest)
    raise SystemExit(f"unknown action {action}")


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1:])))
