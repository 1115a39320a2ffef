-- ListUsers?updated_at_greater=… (incremental sync) reads users changed after a time, in the
-- order they changed, from these indexes rather than from the whole table.
CREATE INDEX users_updated_at ON users (updated_at, id);
CREATE INDEX users_org_updated_at ON users (org_id, updated_at, id);

-- A user's secondary organizations (relation_type "1" of user_org_relation_list); the home
-- organization stays users.org_id (relation_type "0"). users.org_relations keeps a copy of the
-- ids (a JSON list) that reads use, written in the same transaction as these rows.
CREATE TABLE user_org_relations (
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    org_id  TEXT NOT NULL REFERENCES organizations (id),
    PRIMARY KEY (user_id, org_id)
);
CREATE INDEX user_org_relations_org_id ON user_org_relations (org_id);

-- Earlier versions kept the list as the client sent it; its entries naming another existing
-- organization than the home one become secondary relations.
INSERT OR IGNORE INTO user_org_relations (user_id, org_id)
SELECT u.id, json_extract(r.value, '$.org_id')
FROM users u, json_each(CASE WHEN json_valid(u.org_relations) AND json_type(u.org_relations) = 'array'
                             THEN u.org_relations ELSE '[]' END) r
WHERE r.type = 'object'
  AND json_extract(r.value, '$.org_id') IN (SELECT id FROM organizations)
  AND json_extract(r.value, '$.org_id') IS NOT u.org_id;
UPDATE users SET org_relations = CASE
    WHEN EXISTS (SELECT 1 FROM user_org_relations r WHERE r.user_id = users.id)
    THEN (SELECT json_group_array(org_id) FROM
          (SELECT org_id FROM user_org_relations r WHERE r.user_id = users.id ORDER BY org_id))
    END
WHERE org_relations IS NOT NULL;

-- Application names are unique: operators and the CLI tell applications apart by them.
-- Earlier duplicates keep their name with their id appended.
UPDATE applications SET name = name || ' ' || id
WHERE id NOT IN (SELECT MIN(id) FROM applications GROUP BY name);
CREATE UNIQUE INDEX applications_name_key ON applications (name);
