-- A card's triggering facts are stored as comma-separated 16-character hashes. A key may hold up to
-- cds.max-bundle-entries resources, so a card (or a snooze) may carry thousands of facts: 4000
-- characters held about 235, and a card with more could not be logged. Standard SQL that H2 and
-- PostgreSQL both accept.
ALTER TABLE issued_card ALTER COLUMN fact_hashes SET DATA TYPE VARCHAR(1000000);
ALTER TABLE snooze ALTER COLUMN fact_hashes SET DATA TYPE VARCHAR(1000000);
