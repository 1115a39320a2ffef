-- Page marks: each list's ids cut into runs of a few thousand, with their row counts, so
-- that a page deep in a list is found without walking the rows before it (see
-- crates/store/src/queries/marks.rs). Roster counts them from the tables when it next starts,
-- because of the task below; `roster reindex` does the same on demand.
CREATE TABLE page_marks (
    list      TEXT   NOT NULL,
    scope     TEXT   NOT NULL,
    first_key TEXT   NOT NULL,
    row_count BIGINT NOT NULL,
    PRIMARY KEY (list, scope, first_key)
);

-- Upkeep a migration asks for, done by Roster at start (SQL alone cannot cut the runs).
CREATE TABLE maintenance (
    task TEXT NOT NULL PRIMARY KEY
);
INSERT INTO maintenance (task) VALUES ('rebuild_page_marks');
