"""Helpers the tests import by name; fixtures are in the conftest.py files.

sandbox: a boto3 client of the loopback sandbox and the app's connection settings to it; factories:
audit tasks and findings seeded straight into the sandbox's state; mitigation: roles, certificates
and findings for the mitigation tests; models: the lab audit's findings and replies with members AWS
may add later; shapes: every sandbox reply checked against botocore's shapes; ui: `until`, which
waits for what the screen should show, and the real app recording what the user is told.
"""
