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
-- or the lower-cased email, as ranges of their indexes. A range is a prefix only under a
-- bytewise order, whatever the database's collation: these columns compare as "C" (equality,
-- all their other use, is the same under every deterministic collation).
DROP INDEX users_email_lower;
ALTER TABLE users ALTER COLUMN user_name_key TYPE TEXT COLLATE "C";
ALTER TABLE users ALTER COLUMN mobile_key TYPE TEXT COLLATE "C";
ALTER TABLE users ALTER COLUMN email TYPE TEXT COLLATE "C";
CREATE INDEX users_email_lower ON users (lower(email));

-- The console's audit log is filtered by operation too (and counts sign-ins per hour).
CREATE INDEX audit_log_operation ON audit_log (operation, id);
