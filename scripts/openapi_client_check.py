"""Calls a live Roster through a client generated from its own /openapi.json
(openapi-python-client), as an integration generated from the document would.

Usage: openapi_client_check.py BASE_URL CLIENT_ID CLIENT_SECRET  (the generated package
`roster_client` must be importable). Exits non-zero on the first answer that is wrong.
"""

import sys

from roster_client import AuthenticatedClient, Client
from roster_client.api.access_credential import show_auth_token
from roster_client.api.organizations import create_organization, show_organization_by_id
from roster_client.api.users import create_user, list_users, show_user_by_id, update_user
from roster_client.models import (
    ErrorBody,
    OrgFields,
    OrgIdView,
    OrgView,
    TokenRequest,
    TokenView,
    UserFields,
    UserIdView,
    UserList,
    UserView,
)


def expect(value, kind, what):
    if not isinstance(value, kind):
        sys.exit(f"{what}: expected {kind.__name__}, got {value!r}")
    return value


def main(base, client_id, client_secret):
    anonymous = Client(base_url=base, raise_on_unexpected_status=True)
    token = expect(
        show_auth_token.sync(
            client=anonymous,
            body=TokenRequest(
                grant_type="client_credentials", client_id=client_id, client_secret=client_secret
            ),
        ),
        TokenView,
        "ShowAuthToken",
    )
    api = AuthenticatedClient(base_url=base, token=token.access_token, raise_on_unexpected_status=True)

    org = expect(
        create_organization.sync(client=api, body=OrgFields(code="GEN", name="Generated")),
        OrgIdView,
        "CreateOrganization",
    )
    shown_org = expect(show_organization_by_id.sync(org.org_id, client=api), OrgView, "ShowOrganizationById")
    assert shown_org.org_code == "GEN", shown_org

    created = expect(
        create_user.sync(
            client=api,
            body=UserFields(user_name="generated", mobile="13900000001", org_code="GEN", email="g@example.com"),
        ),
        UserIdView,
        "CreateUser",
    )
    user = expect(show_user_by_id.sync(created.user_id, client=api), UserView, "ShowUserById")
    assert (user.user_name, user.email, user.org_id) == ("generated", "g@example.com", org.org_id), user
    assert [(r.org_id, r.relation_type) for r in user.user_org_relation_list] == [(org.org_id, "0")], user

    expect(update_user.sync(created.user_id, client=api, body=UserFields(name="Renamed")), UserIdView, "UpdateUser")
    changed = expect(
        list_users.sync(client=api, org_id=org.org_id, updated_at_greater=user.updated_at, offset=0, limit=10),
        UserList,
        "ListUsers",
    )
    assert changed.total == 1 and changed.users[0].name == "Renamed", changed

    missing = expect(
        show_user_by_id.sync("20210621095931341-4CB3-122995DE2", client=api), ErrorBody, "ShowUserById (unknown)"
    )
    assert missing.error_code == "USER.0001", missing
    print("generated client: 7 operations answered as documented")


if __name__ == "__main__":
    main(*sys.argv[1:4])
