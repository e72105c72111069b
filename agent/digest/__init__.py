"""The weekly digest: what happened to our requests, built from the database and mailed to the operators."""
