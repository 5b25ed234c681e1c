"""Search stage: parse sources' real formats into records and log every search (PRISMA-S)."""
