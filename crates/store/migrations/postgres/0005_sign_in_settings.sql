-- Each application's sign-in settings (OAuth 2.0 / OpenID Connect): protocol, registered
-- redirect and logout URLs, grants, token lifetimes, id_token algorithm and claim mappings,
-- kept together as one JSON document (read and written whole, by application).
CREATE TABLE app_sso (
    application_id TEXT NOT NULL PRIMARY KEY
        CONSTRAINT app_sso_application_id_fkey REFERENCES applications (id) ON DELETE CASCADE,
    settings TEXT NOT NULL,
    updated_at BIGINT NOT NULL
);
