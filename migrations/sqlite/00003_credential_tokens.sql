-- +goose Up
-- OAuth2 access tokens fetched for a credential, sealed like its values, with their expiry.
ALTER TABLE credentials ADD COLUMN token_key_id TEXT;
ALTER TABLE credentials ADD COLUMN token_ciphertext BLOB;
ALTER TABLE credentials ADD COLUMN token_expires_at DATETIME;

-- +goose Down
ALTER TABLE credentials DROP COLUMN token_expires_at;
ALTER TABLE credentials DROP COLUMN token_ciphertext;
ALTER TABLE credentials DROP COLUMN token_key_id;
