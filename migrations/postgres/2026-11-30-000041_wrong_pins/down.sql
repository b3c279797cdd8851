ALTER TABLE signers DROP COLUMN wrong_pins;
ALTER TABLE signers RENAME COLUMN pin_claims TO failed_pins;
