-- Webhook secrets are stored sealed with the server's secret keys (capstan:v1:KEYID:BASE64), longer than the 256
-- characters a plain secret may have. Rows written before sealing existed are sealed when the server starts.
ALTER TABLE registry_webhook ALTER COLUMN secret SET DATA TYPE VARCHAR(1024);
