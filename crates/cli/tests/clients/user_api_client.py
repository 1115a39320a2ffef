"""A user-API client as native and server-side integrations write one: logs in, signs a
session call with RSA-OAEP (SHA-256, MGF1 with SHA-1: Java's OAEPWithSHA-256AndMGF1Padding)
using the `cryptography` package, and trades the session for a one-time SSO ticket.

Usage: user_api_client.py BASE_URL CLIENT_ID CLIENT_SECRET USER_NAME PASSWORD
Prints what it saw as one JSON object.
"""

import base64
import json
import secrets
import sys

import requests
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding

base, client_id, client_secret, user_name, password = sys.argv[1:6]
device = {
    "X-client-id": client_id,
    "X-device-fingerprint": "156aysdna213sc50",
    "X-operating-sys-version": "Android 10",
    "X-agent": "Mozilla/5.0 (Linux; Android 10)",
}

# 1. Log in: the answer's status says what comes next.
login = requests.post(
    f"{base}/api/v2/sdk/login",
    headers=device,
    json={"user_name": user_name, "password": password},
).json()
assert login["status"] == "SUCCESS", login
session_token = login["session_token"]
# The id_token's `api` claim is a JSON string holding the user.
payload = login["id_token"].split(".")[1]
claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
id_token_user = json.loads(claims["api"])["userName"]


# 2. Sign a session call: the application's public key, the server's time, a fresh nonce.
def signature():
    pem = requests.get(f"{base}/api/v2/sdk/public-key", headers=device).json()["public_key"]
    key = serialization.load_pem_public_key(pem.encode())
    timestamp = requests.get(f"{base}/api/v2/sdk/server-date").json()["timestamp"]
    nonce = secrets.token_hex(8)
    text = f"session_token={session_token}&timestamp={timestamp}&nonce={nonce}"
    oaep = padding.OAEP(
        mgf=padding.MGF1(algorithm=hashes.SHA1()),
        algorithm=hashes.SHA256(),
        label=None,
    )
    return base64.b64encode(key.encrypt(text.encode(), oaep)).decode()


sig = signature()
profile = requests.get(
    f"{base}/api/v2/sdk/profile", headers={**device, "X-signature": sig}
).json()
replayed = requests.get(
    f"{base}/api/v2/sdk/profile", headers={**device, "X-signature": sig}
).json()["error_code"]

# 3. Server to server: a tenant token, a ticket for the session, the ticket redeemed.
tenant = requests.post(
    f"{base}/api/v2/tenant/token",
    auth=(client_id, client_secret),
    data={"grant_type": "client_credentials"},
).json()["access_token"]
bearer = {"Authorization": f"Bearer {tenant}"}
body = {
    "operating_sys_version": "Android 10",
    "device_ip": "10.10.10.1",
    "device_fingerprint": device["X-device-fingerprint"],
}
ticket = requests.post(
    f"{base}/api/v2/tenant/sso/session-token/sso-ticket",
    headers=bearer,
    json={**body, "session_token": session_token},
).json()["sso_ticket"]
redeemed = requests.post(
    f"{base}/api/v2/tenant/sso/sso-ticket/verify",
    headers=bearer,
    json={**body, "sso_ticket": ticket},
).json()

print(
    json.dumps(
        {
            "profile": profile,
            "replayed": replayed,
            "id_token_user": id_token_user,
            "ticket_user": redeemed["data"]["user"],
        }
    )
)
