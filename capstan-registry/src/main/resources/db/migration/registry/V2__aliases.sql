-- Capstan's aliases on model versions (champion, challenger): one version per alias and model; moving an alias
-- rewrites its row. Deleting the model or the version deletes the alias.
CREATE TABLE registry_alias (
    model_id    BIGINT      NOT NULL REFERENCES registry_entity (id) ON DELETE CASCADE,
    alias       VARCHAR(63) NOT NULL,
    version_id  BIGINT      NOT NULL REFERENCES registry_entity (id) ON DELETE CASCADE,
    update_time BIGINT      NOT NULL,
    PRIMARY KEY (model_id, alias)
);
CREATE INDEX registry_alias_by_version ON registry_alias (version_id);
