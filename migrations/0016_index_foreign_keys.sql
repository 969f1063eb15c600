-- An index on every foreign key column. SQLite finds the rows that point at a deleted (or
-- re-keyed) parent through the child's column; without an index each such delete reads the
-- whole child table. The session pruner's "grants nothing points at any more" was one: with
-- 100,000 live codes it read oidc_code once per grant and held the writer for minutes.
-- A test (`every_foreign_key_is_indexed`) keeps new tables in line.

CREATE INDEX token_admin ON token (admin_id);
CREATE INDEX device_stats_location ON device_stats (location_id);
CREATE INDEX token_card_outbox ON token_card (outbox_id);
CREATE INDEX token_card_token ON token_card (token_id);
CREATE INDEX token_card_user ON token_card (user_id);
CREATE INDEX token_card_session ON token_card (session_id);
CREATE INDEX session_reset ON session (reset_id);
CREATE INDEX session_device ON session (device_id);
CREATE INDEX password_reset_admin ON password_reset (admin_id);
CREATE INDEX oidc_client_group_group ON oidc_client_group (group_id);
CREATE INDEX oidc_consent_client ON oidc_consent (client_id);
CREATE INDEX oidc_grant_client ON oidc_grant (client_id);
CREATE INDEX oidc_code_grant ON oidc_code (grant_id);
CREATE INDEX api_token_created_by ON api_token (created_by);
