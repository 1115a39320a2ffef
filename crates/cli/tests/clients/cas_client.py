"""Signs in to a CAS service through Roster with python-cas (PyPI), as a Python web
application's CAS plugin does: the login URL, the login form, the ticket back to the
service, and its validation in the protocol version asked for; then the ticket again, and
the logout URL.

Usage: cas_client.py BASE_URL SERVICE_URL USER PASSWORD VERSION
Prints {"user", "attributes", "again", "logout"} as JSON.
"""
import json
import re
import sys
from urllib.parse import parse_qs, urljoin, urlparse

import requests
from cas import CASClient

base, service_url, user_name, password, version = sys.argv[1:6]


class TextLines(requests.Session):
    """python-cas 1.6.0's CAS 1.0 client compares the lines of the answer, as bytes, with
    'yes' (a str), so it never sees a success on Python 3 whatever the server says; its
    session is given lines as text. Only CAS 1.0 uses `iter_lines`."""

    def get(self, *args, **kwargs):
        response = super().get(*args, **kwargs)
        lines = response.iter_lines
        response.iter_lines = lambda **kw: lines(decode_unicode=True, **kw)
        return response


client = CASClient(version=int(version), service_url=service_url,
                   server_url=base + "/api/v1/cas/", session=TextLines())
browser = requests.Session()


def hop(response):
    assert response.status_code in (302, 303), (response.status_code, response.text)
    return urljoin(base + "/", response.headers["Location"])


to_login = hop(browser.get(client.get_login_url(), allow_redirects=False))
page = browser.get(to_login).text
form = dict(re.findall(r'name="(csrf_token|return_to)" value="([^"]*)"', page))
form = {k: v.replace("&amp;", "&").replace("&#38;", "&") for k, v in form.items()}
form.update(user_name=user_name, password=password)
back = hop(browser.post(base + "/login", data=form, allow_redirects=False))
to_service = hop(browser.get(back, allow_redirects=False))
assert to_service.startswith(service_url), to_service
ticket = parse_qs(urlparse(to_service).query)["ticket"][0]
user, attributes, _ = client.verify_ticket(ticket)
again, _, _ = client.verify_ticket(ticket)
logout = hop(browser.get(client.get_logout_url(redirect_url=service_url),
                         allow_redirects=False))
print(json.dumps({"user": user, "attributes": attributes or {}, "again": again,
                  "logout": logout}))
