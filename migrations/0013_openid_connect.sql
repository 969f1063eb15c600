-- onramp as an OpenID Connect provider: signing keys, registered apps, consents, codes and
-- tokens. Codes and tokens are stored only as hex SHA-256 hashes.

-- RS256 signing keys. A key signs from `active_from` on (published in the JWKS before that);
-- it stays published until tokens it signed have expired after a newer key took over.
CREATE TABLE oidc_key (
    id          INTEGER PRIMARY KEY,
    kid         TEXT    NOT NULL UNIQUE,
    private_key BLOB    NOT NULL,   -- base64 PKCS#1 DER, sealed with the instance key
    n           TEXT    NOT NULL,   -- base64url modulus
    e           TEXT    NOT NULL,   -- base64url exponent
    created_at  INTEGER NOT NULL,
    active_from INTEGER NOT NULL
) STRICT;

-- The `sub` claim: random per user, never reused, never the row id.
CREATE TABLE oidc_subject (
    user_id INTEGER PRIMARY KEY REFERENCES user (id) ON DELETE CASCADE,
    sub     TEXT    NOT NULL UNIQUE
) STRICT;

CREATE TABLE oidc_client (
    id                        INTEGER PRIMARY KEY,
    client_id                 TEXT    NOT NULL UNIQUE,
    name                      TEXT    NOT NULL COLLATE NOCASE UNIQUE,
    kind                      TEXT    NOT NULL CHECK (kind IN ('confidential', 'public')),
    secret_hash               TEXT,   -- hex SHA-256 of a 256-bit secret; NULL for public apps
    redirect_uris             TEXT    NOT NULL,             -- one per line
    post_logout_redirect_uris TEXT    NOT NULL DEFAULT '',  -- one per line
    require_mfa               INTEGER NOT NULL DEFAULT 0 CHECK (require_mfa IN (0, 1)),
    is_enabled                INTEGER NOT NULL DEFAULT 1 CHECK (is_enabled IN (0, 1)),
    created_at                INTEGER NOT NULL
) STRICT;

-- An app with rows here admits only members of at least one of these groups.
CREATE TABLE oidc_client_group (
    client_id INTEGER NOT NULL REFERENCES oidc_client (id) ON DELETE CASCADE,
    group_id  INTEGER NOT NULL REFERENCES user_group (id) ON DELETE CASCADE,
    PRIMARY KEY (client_id, group_id)
) STRICT, WITHOUT ROWID;

CREATE TABLE oidc_consent (
    user_id    INTEGER NOT NULL REFERENCES user (id) ON DELETE CASCADE,
    client_id  INTEGER NOT NULL REFERENCES oidc_client (id) ON DELETE CASCADE,
    scope      TEXT    NOT NULL,
    granted_at INTEGER NOT NULL,
    PRIMARY KEY (user_id, client_id)
) STRICT, WITHOUT ROWID;

-- What one sign-in at one app issued: the code's tokens and every refresh after. Revoking it
-- (code reuse, refresh token reuse, consent withdrawn, user disabled) ends all its tokens.
CREATE TABLE oidc_grant (
    id         INTEGER PRIMARY KEY,
    client_id  INTEGER NOT NULL REFERENCES oidc_client (id) ON DELETE CASCADE,
    user_id    INTEGER NOT NULL REFERENCES user (id) ON DELETE CASCADE,
    scope      TEXT    NOT NULL,
    auth_time  INTEGER NOT NULL,
    mfa        INTEGER NOT NULL CHECK (mfa IN (0, 1)),
    created_at INTEGER NOT NULL,
    revoked_at INTEGER
) STRICT;

CREATE INDEX oidc_grant_user ON oidc_grant (user_id, client_id);

CREATE TABLE oidc_code (
    hash           TEXT    PRIMARY KEY,
    grant_id       INTEGER NOT NULL REFERENCES oidc_grant (id) ON DELETE CASCADE,
    redirect_uri   TEXT    NOT NULL,
    nonce          TEXT,
    code_challenge TEXT,
    expires_at     INTEGER NOT NULL,
    used_at        INTEGER
) STRICT;

CREATE TABLE oidc_token (
    hash       TEXT    PRIMARY KEY,
    grant_id   INTEGER NOT NULL REFERENCES oidc_grant (id) ON DELETE CASCADE,
    kind       TEXT    NOT NULL CHECK (kind IN ('access', 'refresh')),
    expires_at INTEGER NOT NULL,
    used_at    INTEGER   -- a refresh token that was exchanged
) STRICT;

CREATE INDEX oidc_token_grant ON oidc_token (grant_id);
