"""HTTP plumbing without routes: CSRF and session shortcuts, request class, security headers,
static assets, log redaction."""
