"""A SAML 2.0 service provider made with pysaml2 (PyPI), checking signatures with Debian's
xmlsec1, as a Python web application's SAML plugin does.

Usage:
  saml_sp.py metadata BASE_URL SP_ENTITY_ID ACS_URL DIR SIGN_REQUESTS [SOAP_LOGOUT_URL]
      makes the SP's key and certificate in DIR and prints the SP's metadata XML (with a SOAP
      SingleLogoutService if given).
  saml_sp.py soap-logout BASE_URL SP_ENTITY_ID ACS_URL DIR FILE
      reads the SOAP LogoutRequest Roster posted (FILE), checking its signature, and prints
      its NameID and SessionIndex as JSON.
  saml_sp.py sso BASE_URL SP_ENTITY_ID ACS_URL DIR USER PASSWORD BINDING
      signs in through Roster (BINDING: redirect, post, or idp for IdP-initiated), the login
      page included, and prints what the SP read of the response as JSON; the response's
      XML is kept in DIR/response.xml.
  saml_sp.py attacks BASE_URL SP_ENTITY_ID ACS_URL DIR
      prints HTTP-POST AuthnRequests (base64) as JSON: "valid" (signed), "tampered" (its ACS
      changed after signing), "wrapped" (the signed request hidden in a forged one that
      carries its signature), "unsigned", "forced" (ForceAuthn), "passive" (IsPassive).
  saml_sp.py logout BASE_URL SP_ENTITY_ID ACS_URL DIR USER PASSWORD BINDING
      signs in (redirect), then logs out at Roster's SingleLogoutService by BINDING and
      prints what the SP read of the LogoutResponse, and whether the session still signs in.
"""
import base64
import datetime
import json
import os
import re
import sys
from html import unescape
from urllib.parse import urljoin, urlparse

import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT, BINDING_SOAP
from saml2.client import Saml2Client
from saml2.config import SPConfig
from saml2.metadata import create_metadata_string
from saml2.saml import NAMEID_FORMAT_UNSPECIFIED
from saml2.xmldsig import DIGEST_SHA256, SIG_RSA_SHA256

command, base, sp_entity, acs, workdir = sys.argv[1:6]
key_file = os.path.join(workdir, "sp.key")
cert_file = os.path.join(workdir, "sp.pem")
idp_entity = base + "/api/v1/saml2/idp/metadata"
slo = acs.rsplit("/", 1)[0] + "/slo"


def make_keys():
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "test sp")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=30))
            .sign(key, hashes.SHA256()))
    with open(key_file, "wb") as f:
        f.write(key.private_bytes(serialization.Encoding.PEM,
                                  serialization.PrivateFormat.TraditionalOpenSSL,
                                  serialization.NoEncryption()))
    with open(cert_file, "wb") as f:
        f.write(cert.public_bytes(serialization.Encoding.PEM))


def config(sign_requests, idp_metadata=None, soap_logout=None):
    logout_services = [(slo, BINDING_HTTP_POST), (slo, BINDING_HTTP_REDIRECT)]
    if soap_logout:
        logout_services.append((soap_logout, BINDING_SOAP))
    conf = {
        "entityid": sp_entity,
        "service": {"sp": {
            "endpoints": {
                "assertion_consumer_service": [(acs, BINDING_HTTP_POST)],
                "single_logout_service": logout_services,
            },
            "allow_unsolicited": True,
            "authn_requests_signed": sign_requests,
            "logout_requests_signed": True,
            "want_assertions_signed": True,
            "want_response_signed": False,
            "name_id_format": [NAMEID_FORMAT_UNSPECIFIED],
            "signing_algorithm": SIG_RSA_SHA256,
            "digest_algorithm": DIGEST_SHA256,
        }},
        "key_file": key_file,
        "cert_file": cert_file,
        "xmlsec_binary": "/usr/bin/xmlsec1",
        "allow_unknown_attributes": True,
    }
    if idp_metadata is not None:
        conf["metadata"] = {"inline": [idp_metadata]}
    c = SPConfig()
    c.load(conf)
    return c


def hop(response):
    assert response.status_code in (302, 303), (response.status_code, response.text[:500])
    return urljoin(base + "/", response.headers["Location"])


def posted_form(page):
    """The action and fields of Roster's auto-POST page."""
    action = unescape(re.search(r'<form method="post" action="([^"]*)"', page).group(1))
    fields = {k: unescape(v) for k, v in re.findall(r'name="([^"]+)" value="([^"]*)"', page)}
    return action, fields


def sign_in_at_login_page(browser, response, user, password):
    """Through the login page when Roster sends the browser there; the auto-POST page."""
    while response.status_code in (302, 303):
        location = hop(response)
        if urlparse(location).path == "/login":
            page = browser.get(location).text
            form = dict(re.findall(r'name="(csrf_token|return_to)" value="([^"]*)"', page))
            form = {k: unescape(v) for k, v in form.items()}
            form.update(user_name=user, password=password)
            response = browser.post(base + "/login", data=form, allow_redirects=False)
        else:
            response = browser.get(location, allow_redirects=False)
    assert response.status_code == 200, (response.status_code, response.text[:500])
    return response.text


def client():
    idp_metadata = requests.get(base + "/api/v1/saml2/idp/metadata").text
    return Saml2Client(config=config(True, idp_metadata))


def start(browser, sp, binding, relay_state):
    """Sends the browser with an AuthnRequest (or IdP-initiated): the first answer."""
    if binding == "idp":
        return None, browser.get(base + "/api/v1/saml2/idp/sso",
                                 params={"sp": sp_entity, "RelayState": relay_state},
                                 allow_redirects=False)
    saml_binding = BINDING_HTTP_REDIRECT if binding == "redirect" else BINDING_HTTP_POST
    request_id, info = sp.prepare_for_authenticate(
        entityid=idp_entity, relay_state=relay_state, binding=saml_binding,
        sigalg=SIG_RSA_SHA256, digest_alg=DIGEST_SHA256)
    if binding == "redirect":
        location = dict(info["headers"])["Location"]
        return request_id, browser.get(location, allow_redirects=False)
    action, fields = posted_form(info["data"].replace("<form action", '<form method="post" action'))
    return request_id, browser.post(action, data=fields, allow_redirects=False)


def sso(browser, sp, binding, user, password):
    request_id, first = start(browser, sp, binding, "state-1")
    page = sign_in_at_login_page(browser, first, user, password)
    action, fields = posted_form(page)
    assert action == acs, action
    xml = base64.b64decode(fields["SAMLResponse"]).decode()
    with open(os.path.join(workdir, "response.xml"), "w") as f:
        f.write(xml)
    outstanding = {request_id: "/"} if request_id else {}
    response = sp.parse_authn_request_response(fields["SAMLResponse"], BINDING_HTTP_POST,
                                                outstanding=outstanding)
    info = response.session_info()
    return {
        "name_id": info["name_id"].text,
        "name_id_format": info["name_id"].format,
        "attributes": response.get_identity(),
        "issuer": info["issuer"],
        "session_index": info["session_index"],
        "relay_state": fields.get("RelayState"),
        "in_response_to": response.in_response_to,
        "request_id": request_id,
    }, info


if command == "metadata":
    os.makedirs(workdir, exist_ok=True)
    make_keys()
    soap_logout = sys.argv[7] if len(sys.argv) > 7 else None
    print(create_metadata_string(None, config(sys.argv[6] == "signed", soap_logout=soap_logout),
                                 4, None, None, None, None).decode())
elif command == "sso":
    user, password, binding = sys.argv[6:9]
    said, _ = sso(requests.Session(), client(), binding, user, password)
    print(json.dumps(said))
elif command == "soap-logout":
    # pysaml2 takes the request out of the SOAP envelope by writing it again with
    # ElementTree, which keeps a prefix only if it was registered; a running SP has
    # registered these by making its own messages (Entity._message), a fresh process has not.
    from xml.etree import ElementTree
    for prefix, uri in (("samlp", "urn:oasis:names:tc:SAML:2.0:protocol"),
                        ("saml", "urn:oasis:names:tc:SAML:2.0:assertion"),
                        ("ds", "http://www.w3.org/2000/09/xmldsig#")):
        ElementTree.register_namespace(prefix, uri)
    with open(sys.argv[6]) as f:
        envelope = f.read()
    request = client().parse_logout_request(envelope, BINDING_SOAP)
    message = request.message
    print(json.dumps({
        "name_id": message.name_id.text,
        "session_index": [i.text for i in message.session_index],
        "issuer": message.issuer.text,
        "signed": request.signature_check is not None and message.signature is not None,
    }))
elif command == "attacks":
    import xml.etree.ElementTree as ET
    sp = client()
    destination = base + "/api/v1/saml2/idp/sso"

    def request(sign=True, **kwargs):
        _, req = sp.create_authn_request(destination, sign=sign, sign_alg=SIG_RSA_SHA256,
                                         digest_alg=DIGEST_SHA256, **kwargs)
        return str(req)

    valid = request()
    tampered = valid.replace(acs, "https://evil.example.com/acs")
    dsig = "{http://www.w3.org/2000/09/xmldsig#}"
    original = ET.fromstring(valid)
    forged = ET.fromstring(request(sign=False))
    forged.set("ID", "_forged" + original.get("ID"))
    forged.set("AssertionConsumerServiceURL", "https://evil.example.com/acs")
    forged.insert(1, original.find(dsig + "Signature"))
    extensions = ET.SubElement(forged, "{urn:oasis:names:tc:SAML:2.0:protocol}Extensions")
    extensions.append(ET.fromstring(valid))
    wrapped = ET.tostring(forged, encoding="unicode")
    b64 = lambda x: base64.b64encode(x.encode()).decode()
    print(json.dumps({
        "valid": b64(valid), "tampered": b64(tampered), "wrapped": b64(wrapped),
        "unsigned": b64(request(sign=False)), "forced": b64(request(force_authn="true")),
        "passive": b64(request(is_passive="true")),
    }))
elif command == "logout":
    user, password, binding = sys.argv[6:9]
    browser = requests.Session()
    sp = client()
    said, info = sso(browser, sp, "redirect", user, password)
    saml_binding = BINDING_HTTP_REDIRECT if binding == "redirect" else BINDING_HTTP_POST
    request_id, logout = sp.create_logout_request(
        destination=base + "/api/v1/saml2/idp/slo", issuer_entity_id=idp_entity,
        name_id=info["name_id"], session_indexes=[info["session_index"]],
        sign=(binding == "post"), sign_alg=SIG_RSA_SHA256, digest_alg=DIGEST_SHA256)
    http = sp.apply_binding(saml_binding, str(logout), base + "/api/v1/saml2/idp/slo",
                            relay_state="bye", sign=True, sigalg=SIG_RSA_SHA256)
    if binding == "redirect":
        answer = browser.get(dict(http["headers"])["Location"], allow_redirects=False)
    else:
        action, fields = posted_form(http["data"].replace("<form action", '<form method="post" action'))
        answer = browser.post(action, data=fields, allow_redirects=False)
    assert answer.status_code == 200, (answer.status_code, answer.text[:500])
    action, fields = posted_form(answer.text)
    response = sp.parse_logout_request_response(fields["SAMLResponse"], BINDING_HTTP_POST)
    again = browser.get(base + "/api/v1/saml2/idp/sso", params={"sp": sp_entity},
                        allow_redirects=False)
    print(json.dumps({
        "action": action,
        "status": response.response.status.status_code.value,
        "in_response_to": response.response.in_response_to,
        "logout_request_id": request_id,
        "relay_state": fields.get("RelayState"),
        "after": again.status_code,
        "after_location": again.headers.get("Location", ""),
    }))
