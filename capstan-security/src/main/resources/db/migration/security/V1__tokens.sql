-- API tokens. Only a SHA-256 hash of each token is kept: a token is 256 random bits, so a fast hash is as good as a
-- slow one and keeps every request's check cheap. kind is USER or WORKLOAD; a workload token also names its scope.
CREATE TABLE api_tokens (
    id          VARCHAR(32)  NOT NULL PRIMARY KEY,
    token_hash  VARCHAR(64)  NOT NULL,
    user_name   VARCHAR(320) NOT NULL,
    kind        VARCHAR(16)  NOT NULL,
    scope_ns    VARCHAR(253),
    scope_purpose VARCHAR(64),
    scope_subject VARCHAR(253),
    description VARCHAR(1000) NOT NULL,
    created_at  TIMESTAMP WITH TIME ZONE NOT NULL,
    expires_at  TIMESTAMP WITH TIME ZONE,
    revoked_at  TIMESTAMP WITH TIME ZONE
);
CREATE UNIQUE INDEX api_tokens_hash ON api_tokens (token_hash);
CREATE INDEX api_tokens_user ON api_tokens (user_name);
