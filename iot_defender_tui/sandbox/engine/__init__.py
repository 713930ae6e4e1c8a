"""The audit engine: each of the 17 checks evaluated from the sandbox's real state.

`context` holds what a check is given and gives back, `registry` which function evaluates which check;
the other modules are the checks, grouped by what they read (certificates, keys, connections, policies,
roles, logging), and `certinfo`/`iot_actions` what those share.
"""
