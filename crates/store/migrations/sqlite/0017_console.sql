-- The web console's people: a user may hold one console role (admin, helpdesk, auditor),
-- granted with `roster admin grant` or by an admin in the console.
CREATE TABLE console_roles (
    user_id TEXT NOT NULL PRIMARY KEY
        CONSTRAINT console_roles_user_id_fkey REFERENCES users (id) ON DELETE CASCADE,
    role TEXT NOT NULL,
    granted_at BIGINT NOT NULL
);

-- The tenant's own settings (one row): the name the login page and the portal show.
CREATE TABLE tenant_settings (
    id INTEGER NOT NULL PRIMARY KEY CHECK (id = 1),
    name TEXT NOT NULL,
    updated_at BIGINT NOT NULL
);

-- The console's dashboard lists locked users without reading every user.
CREATE INDEX users_locked_until ON users (locked_until);
-- The console's search reads users by a prefix of the folded user name, the mobile's digits
-- or the lower-cased email as ranges of their indexes (users_user_name_folded,
-- users_mobile_digits, users_email_lower): SQLite compares text bytewise, so a range is a
-- prefix.

-- The console's audit log is filtered by operation too (and counts sign-ins per hour).
CREATE INDEX audit_log_operation ON audit_log (operation, id);
