-- +goose Up
-- OAuth2 access tokens fetched for a credential, sealed like its values, with their expiry.
ALTER TABLE credentials ADD COLUMN token_key_id text;
ALTER TABLE credentials ADD COLUMN token_ciphertext bytea;
ALTER TABLE credentials ADD COLUMN token_expires_at timestamptz;

-- +goose Down
ALTER TABLE credentials DROP COLUMN token_expires_at;
ALTER TABLE credentials DROP COLUMN token_ciphertext;
ALTER TABLE credentials DROP COLUMN token_key_id;
