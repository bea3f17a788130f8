"""A small HTTP client for the running stack, on the standard library only.

It sends ``X-Forwarded-Proto: https`` on every request (what nginx sends in production: the
stack's cookies are Secure and Django then treats the request as HTTPS), keeps cookies itself
(``http.cookiejar`` would refuse to return Secure cookies over plain http), never follows
redirects on its own, and speaks forms with CSRF (``login``, ``post_form``) and token auth.
"""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass
from email.message import Message
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import urlencode, urljoin, urlsplit

CSRF_FIELD = re.compile(rb'name="csrfmiddlewaretoken" value="([^"]+)"')


@dataclass
class Response:
    status: int
    headers: Message
    body: bytes
    url: str

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")

    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def location(self) -> str:
        return self.headers.get("Location", "")


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


class StackClient:
    def __init__(self, base_url: str, *, token: str = "", timeout: float = 60) -> None:
        self.base_url = base_url.rstrip("/")
        self.origin = "https://" + urlsplit(self.base_url).netloc
        self.token = token
        self.timeout = timeout
        self.cookies: dict[str, str] = {}
        self.set_cookie_headers: list[str] = []
        self._opener = urllib.request.build_opener(_NoRedirect)

    def request(self, method: str, path: str, *, body: bytes | None = None, headers: dict | None = None) -> Response:
        url = urljoin(self.base_url + "/", path.lstrip("/"))
        all_headers = {"X-Forwarded-Proto": "https", "Accept-Language": "zh-hans"}
        if self.token:
            all_headers["Authorization"] = f"Token {self.token}"
        if self.cookies:
            all_headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        all_headers.update(headers or {})
        req = urllib.request.Request(url, data=body, headers=all_headers, method=method)  # noqa: S310 (http only)
        try:
            with self._opener.open(req, timeout=self.timeout) as raw:
                response = Response(raw.status, raw.headers, raw.read(), url)
        except urllib.error.HTTPError as err:
            response = Response(err.code, err.headers, err.read(), url)
        self._keep_cookies(response.headers)
        return response

    def _keep_cookies(self, headers: Message) -> None:
        for header in headers.get_all("Set-Cookie") or []:
            self.set_cookie_headers.append(header)
            jar = SimpleCookie()
            jar.load(header)
            for name, morsel in jar.items():
                if morsel["max-age"] == "0" or morsel.value == "":
                    self.cookies.pop(name, None)
                else:
                    self.cookies[name] = morsel.value

    def get(self, path: str, **kwargs: Any) -> Response:
        return self.request("GET", path, **kwargs)

    def csrf_token(self, page: Response) -> str:
        found = CSRF_FIELD.search(page.body)
        return found.group(1).decode() if found else self.cookies.get("csrftoken", "")

    def post_form(self, path: str, fields: dict[str, str], *, files: dict[str, tuple[str, bytes, str]] | None = None,
                  csrf_from: Response | None = None, headers: dict | None = None) -> Response:
        """POST a form (multipart when ``files``) with the CSRF token of ``csrf_from`` (or the cookie)."""
        fields = dict(fields)
        fields["csrfmiddlewaretoken"] = self.csrf_token(csrf_from) if csrf_from else self.cookies.get("csrftoken", "")
        # HTTPS requests need a same-origin Referer (Django's CSRF check); nginx passes the browser's
        headers = {"Referer": self.origin + path, "Origin": self.origin, **(headers or {})}
        if files:
            boundary = uuid.uuid4().hex
            body = _multipart(boundary, fields, files)
            headers["Content-Type"] = f"multipart/form-data; boundary={boundary}"
        else:
            body = urlencode(fields).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        return self.request("POST", path, body=body, headers=headers)

    def login(self, username: str, password: str, *, path: str = "/accounts/login/") -> Response:
        """Log in through a Django login form; returns the answer to the POST (302 on success)."""
        page = self.get(path)
        if page.status != 200:
            raise AssertionError(f"GET {path} answered {page.status}")
        return self.post_form(path, {"username": username, "password": password, "next": ""}, csrf_from=page)


def _multipart(boundary: str, fields: dict[str, str], files: dict[str, tuple[str, bytes, str]]) -> bytes:
    parts: list[bytes] = []
    for name, value in fields.items():
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
        )
    for name, (filename, content, content_type) in files.items():
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
            f"Content-Type: {content_type}\r\n\r\n".encode()
            + content
            + b"\r\n"
        )
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts)
