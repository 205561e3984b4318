-- Time step (Unix seconds / 30) of the last TOTP code accepted for each
-- operator, so a code cannot be used twice.
ALTER TABLE operators ADD COLUMN totp_last_step INTEGER;
