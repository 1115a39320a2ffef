"""An OpenID Connect relying party as authlib (PyPI) runs it against Roster: discovery, the
code flow with PKCE and a nonce, the id_token checked against the JWKS, userinfo by GET and by
POST (authlib's default for some providers), refresh, introspection, revocation, a prompt=login
that asks for the password again, and RP-initiated logout with an id_token_hint.

Usage: oidc_authlib.py ISSUER CLIENT_ID CLIENT_SECRET REDIRECT_URI USER PASSWORD
Prints one line of JSON with what it saw; exits non-zero at the first check that fails.
"""

import html
import json
import re
import sys
from urllib.parse import parse_qs, urlparse

import requests
from authlib.common.security import generate_token
from authlib.integrations.requests_client import OAuth2Session
from authlib.jose import JsonWebKey, jwt  # noqa: deprecated in favour of joserfc, still shipped
from authlib.oauth2.rfc7636 import create_s256_code_challenge

issuer, client_id, client_secret, redirect_uri, user, password = sys.argv[1:7]
seen = {}


def check(condition, what):
    if not condition:
        print(json.dumps({"failed": what, "seen": seen}))
        sys.exit(1)


browser = requests.Session()


def sign_in_at(url):
    """Follows an authorization URL through the login page to the redirect with the code."""
    answer = browser.get(url, allow_redirects=False, headers={"Accept": "text/html"})
    check(answer.status_code == 302, f"authorize answered {answer.status_code}")
    location = answer.headers["Location"]
    if location.startswith("/login"):
        page = browser.get(issuer + location)
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
        back = re.search(r'name="return_to" value="([^"]+)"', page.text).group(1)
        back = html.unescape(back)
        done = browser.post(
            issuer + "/login",
            data={"user_name": user, "password": password, "csrf_token": token, "return_to": back},
            allow_redirects=False,
        )
        check(done.status_code == 303, f"login answered {done.status_code}")
        answer = browser.get(issuer + done.headers["Location"], allow_redirects=False)
        check(answer.status_code == 302, f"back at authorize: {answer.status_code} {answer.text[:300]}")
        location = answer.headers["Location"]
    return location


metadata = requests.get(issuer + "/.well-known/openid-configuration").json()
check(metadata["issuer"] == issuer, "issuer")
jwks = JsonWebKey.import_key_set(requests.get(metadata["jwks_uri"]).json())

client = OAuth2Session(
    client_id,
    client_secret,
    scope="openid",
    redirect_uri=redirect_uri,
    token_endpoint_auth_method="client_secret_basic",
    code_challenge_method="S256",
)
verifier = generate_token(48)
nonce = generate_token(16)
url, state = client.create_authorization_url(
    metadata["authorization_endpoint"], code_verifier=verifier, nonce=nonce
)
location = sign_in_at(url)
check(parse_qs(urlparse(location).query)["state"][0] == state, "state")
token = client.fetch_token(
    metadata["token_endpoint"], authorization_response=location, code_verifier=verifier
)
claims = jwt.decode(
    token["id_token"],
    jwks,
    claims_options={"iss": {"essential": True, "value": issuer}, "aud": {"value": client_id}},
)
claims.validate()
check(claims["nonce"] == nonce, "nonce")
seen["sub"] = claims["sub"]

# userinfo: GET with the header, POST with the header, POST with the form field.
get = client.get(metadata["userinfo_endpoint"]).json()
post = client.post(metadata["userinfo_endpoint"]).json()
form = requests.post(
    metadata["userinfo_endpoint"], data={"access_token": token["access_token"]}
).json()
check(get["sub"] == claims["sub"] == post["sub"] == form["sub"], "userinfo")
seen["userName"] = get["userName"]

# Introspection, refresh (rotating the refresh token), revocation.
introspected = requests.post(
    metadata["introspection_endpoint"],
    auth=(client_id, client_secret),
    data={"token": token["access_token"]},
).json()
check(introspected["active"] is True and introspected["sub"] == claims["sub"], "introspect")
refreshed = client.refresh_token(metadata["token_endpoint"], refresh_token=token["refresh_token"])
check(refreshed["refresh_token"] != token["refresh_token"], "refresh rotates")
client.revoke_token(metadata["revocation_endpoint"], token=refreshed["refresh_token"])
gone = requests.post(
    metadata["introspection_endpoint"],
    auth=(client_id, client_secret),
    data={"token": refreshed["access_token"]},
).json()
check(gone == {"active": False}, "revoked with its grant")

# prompt=login: the password again, although signed in.
url, _ = client.create_authorization_url(
    metadata["authorization_endpoint"], code_verifier=generate_token(48), prompt="login"
)
answer = browser.get(url, allow_redirects=False)
check(answer.headers["Location"].startswith("/login"), "prompt=login asks again")

# RP-initiated logout with the id_token as hint, sent as a browser from the application's site.
logout = browser.get(
    metadata["end_session_endpoint"],
    params={
        "id_token_hint": token["id_token"],
        "post_logout_redirect_uri": redirect_uri,
        "state": "bye",
    },
    headers={"Sec-Fetch-Site": "cross-site", "Accept": "text/html"},
    allow_redirects=False,
)
check(logout.status_code == 302, f"logout answered {logout.status_code}")
check(logout.headers["Location"] == redirect_uri + "?state=bye", "post-logout redirect")
url, _ = client.create_authorization_url(metadata["authorization_endpoint"])
answer = browser.get(url, allow_redirects=False)
check(answer.headers["Location"].startswith("/login"), "signed out")
seen["ok"] = True
print(json.dumps(seen))
