"""Users, roles, passwords, permission policy, consent, audit log, small-cell suppression."""
