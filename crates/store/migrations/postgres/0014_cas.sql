-- CAS service tickets issued and not yet validated: one use each (deleted as they are
-- validated, on whichever node), bound to the service URL they were issued for. Only the
-- ticket's digest is kept.
CREATE TABLE cas_tickets (
    digest TEXT NOT NULL PRIMARY KEY,
    application_id TEXT NOT NULL
        CONSTRAINT cas_tickets_application_id_fkey REFERENCES applications (id) ON DELETE CASCADE,
    user_id TEXT NOT NULL
        CONSTRAINT cas_tickets_user_id_fkey REFERENCES users (id) ON DELETE CASCADE,
    service TEXT NOT NULL,
    auth_time BIGINT NOT NULL,
    from_new_login BOOLEAN NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX cas_tickets_user_id ON cas_tickets (user_id);
CREATE INDEX cas_tickets_expires_at ON cas_tickets (expires_at);
