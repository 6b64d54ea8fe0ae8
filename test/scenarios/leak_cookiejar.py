"""An HTTP client keeps one http.cookiejar.CookieJar for the process; the backend sets a new cookie name per request.

Real-world bug class: tracking or session cookies with per-request names collected by a long-lived jar. The jar
keeps every cookie (domain -> path -> name) until it expires and someone clears it.
A right diagnosis names the jar's cookie store (sys.modules['__main__'].jar._cookies) and says to clear the jar or
keep one per client session.
"""
# verdict: leak
# kinds: library-leak|growing-container
# holder: sys.modules['__main__'].jar
# remedy: clear
import email.message
import http.cookiejar
import urllib.request
import rounds

jar = http.cookiejar.CookieJar()


class FakeResponse:
    def __init__(self, headers):
        self._h = headers

    def info(self):
        return self._h


def handle(n):
    req = urllib.request.Request("http://api.example.com/orders/%d" % n)
    jar.add_cookie_header(req)
    msg = email.message.Message()
    msg["Set-Cookie"] = "trk_%d=%x; Path=/" % (n, n * 7919)   # a distinct cookie name each time
    jar.extract_cookies(FakeResponse(msg), req)


rounds.run(handle, 250)
