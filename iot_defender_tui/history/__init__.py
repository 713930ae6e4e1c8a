"""The local audit history (issue 14): every completed audit the app reads, kept in one SQLite file in the
user data directory (keyed by account and region, separate from the journal), so a stored audit re-opens
without AWS, drift between audits and the posture trend can be computed, and findings outlive AWS's 90 days.

Used by ui/ and cli; imports aws's models and config, never ui or cli.
"""
