-- PIN attempts (issue 9): `pin_claims` counts the attempts claimed before a PIN is tried (the
-- ones in flight and the wrong ones); `wrong_pins` only the PINs found wrong, and only these
-- lock the key. Claimed attempts bound how many PINs are tried at once; a wrong PIN while
-- right ones are in flight no longer locks early. No PIN is in flight while migrating, so
-- every claim counted so far was a wrong PIN.
ALTER TABLE signers RENAME COLUMN failed_pins TO pin_claims;
ALTER TABLE signers ADD COLUMN wrong_pins INTEGER NOT NULL DEFAULT 0;
UPDATE signers SET wrong_pins = pin_claims;
