-- Roster foundation schema (SQLite). Uniqueness lives here, not in check-then-insert code.
CREATE TABLE applications (
    id            TEXT    NOT NULL PRIMARY KEY,
    name          TEXT    NOT NULL,
    client_id     TEXT    NOT NULL,
    secret_digest TEXT    NOT NULL,
    permissions   TEXT    NOT NULL,
    disabled      BOOLEAN NOT NULL DEFAULT FALSE,
    created_at    BIGINT  NOT NULL,
    updated_at    BIGINT  NOT NULL,
    CONSTRAINT applications_client_id_key UNIQUE (client_id)
);

CREATE TABLE access_tokens (
    digest         TEXT   NOT NULL PRIMARY KEY,
    application_id TEXT   NOT NULL REFERENCES applications (id) ON DELETE CASCADE,
    scope          TEXT   NOT NULL,
    expires_at     BIGINT NOT NULL,
    created_at     BIGINT NOT NULL
);
CREATE INDEX access_tokens_expires_at ON access_tokens (expires_at);

-- parent_key is parent_id, or '' for a top-level organization: NULLs are never equal, so a
-- unique constraint on (parent_id, name) would not stop two roots of the same name.
CREATE TABLE organizations (
    id         TEXT   NOT NULL PRIMARY KEY,
    code       TEXT   NOT NULL,
    name       TEXT   NOT NULL,
    parent_id  TEXT   REFERENCES organizations (id),
    parent_key TEXT   NOT NULL,
    category   TEXT   NOT NULL DEFAULT 'department',
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    CONSTRAINT organizations_code_key UNIQUE (code),
    CONSTRAINT organizations_sibling_name_key UNIQUE (parent_key, name)
);
CREATE INDEX organizations_parent_id ON organizations (parent_id, id);

CREATE TABLE users (
    id                   TEXT    NOT NULL PRIMARY KEY,
    org_id               TEXT    REFERENCES organizations (id),
    user_name            TEXT    NOT NULL,
    mobile               TEXT    NOT NULL,
    name                 TEXT    NOT NULL,
    email                TEXT,
    employee_id          TEXT,
    first_name           TEXT,
    middle_name          TEXT,
    last_name            TEXT,
    password_hash        TEXT,
    pwd_must_modify      BOOLEAN NOT NULL,
    pwd_change_at        BIGINT,
    attr_gender          TEXT,
    attr_birthday        TEXT,
    attr_nick_name       TEXT,
    attr_identity_type   TEXT,
    attr_identity_number TEXT,
    attr_area            TEXT,
    attr_city            TEXT,
    attr_manager_id      TEXT,
    attr_user_type       TEXT,
    attr_hire_date       TEXT,
    attr_work_place      TEXT,
    org_relations        TEXT,
    extension            TEXT,
    disabled             BOOLEAN NOT NULL DEFAULT FALSE,
    locked               BOOLEAN NOT NULL DEFAULT FALSE,
    grade                BIGINT  NOT NULL DEFAULT 0,
    created_at           BIGINT  NOT NULL,
    updated_at           BIGINT  NOT NULL,
    CONSTRAINT users_user_name_key UNIQUE (user_name),
    CONSTRAINT users_mobile_key UNIQUE (mobile)
);
CREATE INDEX users_org_id ON users (org_id, id);

CREATE TABLE app_organizations (
    id             TEXT   NOT NULL PRIMARY KEY,
    application_id TEXT   NOT NULL REFERENCES applications (id),
    code           TEXT   NOT NULL,
    name           TEXT   NOT NULL,
    parent_id      TEXT   REFERENCES app_organizations (id),
    created_at     BIGINT NOT NULL,
    updated_at     BIGINT NOT NULL,
    CONSTRAINT app_organizations_code_key UNIQUE (application_id, code)
);
CREATE INDEX app_organizations_list ON app_organizations (application_id, id);
CREATE INDEX app_organizations_parent_id ON app_organizations (parent_id);

-- disabled_by_user: the account was disabled because its user was, and comes back with it.
CREATE TABLE app_accounts (
    id               TEXT    NOT NULL PRIMARY KEY,
    application_id   TEXT    NOT NULL REFERENCES applications (id),
    user_id          TEXT    REFERENCES users (id),
    account_name     TEXT    NOT NULL,
    account_type     TEXT    NOT NULL,
    name             TEXT,
    org_id           TEXT    REFERENCES app_organizations (id),
    password_secret  TEXT,
    disabled         BOOLEAN NOT NULL DEFAULT FALSE,
    disabled_by_user BOOLEAN NOT NULL DEFAULT FALSE,
    extension        TEXT,
    created_at      BIGINT  NOT NULL,
    updated_at      BIGINT  NOT NULL,
    CONSTRAINT app_accounts_user_key UNIQUE (application_id, user_id),
    CONSTRAINT app_accounts_name_key UNIQUE (application_id, account_name)
);
CREATE INDEX app_accounts_user_id ON app_accounts (user_id);
CREATE INDEX app_accounts_list ON app_accounts (application_id, id);
CREATE INDEX app_accounts_type ON app_accounts (application_id, account_type, id);
CREATE INDEX app_accounts_org_id ON app_accounts (org_id);

CREATE TABLE app_roles (
    id             TEXT   NOT NULL PRIMARY KEY,
    application_id TEXT   NOT NULL REFERENCES applications (id),
    code           TEXT   NOT NULL,
    name           TEXT,
    created_at     BIGINT NOT NULL,
    updated_at     BIGINT,
    CONSTRAINT app_roles_code_key UNIQUE (application_id, code)
);
CREATE INDEX app_roles_list ON app_roles (application_id, id);

CREATE TABLE app_role_members (
    role_id    TEXT   NOT NULL REFERENCES app_roles (id) ON DELETE CASCADE,
    account_id TEXT   NOT NULL REFERENCES app_accounts (id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (role_id, account_id)
);
CREATE INDEX app_role_members_account_id ON app_role_members (account_id);

CREATE TABLE audit_log (
    id          INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    at          BIGINT  NOT NULL,
    actor       TEXT    NOT NULL,
    operation   TEXT    NOT NULL,
    target_type TEXT    NOT NULL,
    target_id   TEXT    NOT NULL
);
CREATE INDEX audit_log_at ON audit_log (at);
CREATE INDEX audit_log_actor ON audit_log (actor, id);
CREATE INDEX audit_log_target ON audit_log (target_id, id);
