"""The REST API under /api/v1/ (issue 15): thin views over the mailing services,
scoped by the one ownership policy of mailing.permissions."""
