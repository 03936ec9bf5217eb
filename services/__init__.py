"""What reads and writes the database, by area (drafts, demandes, suivi, accounts...)."""
