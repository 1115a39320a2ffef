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

-- Writers on several connections record a row joining (+1) or leaving (-1) a list here,
-- keyed by the row's own key, without a lock: writers of one list never queue on its marks.
-- A read counts each delta in the run that holds its key; now and then a write folds a list's
-- deltas into page_marks.
CREATE TABLE page_mark_deltas (
    list    TEXT   NOT NULL,
    scope   TEXT   NOT NULL,
    row_key TEXT   NOT NULL,
    delta   BIGINT NOT NULL
);
CREATE INDEX page_mark_deltas_scope ON page_mark_deltas (list, scope);
