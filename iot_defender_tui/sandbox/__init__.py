"""Offline Device Defender: moto's IoT backend plus the audit and mitigation APIs, served over HTTP.

Stands alone: nothing in `aws/` or `ui/` imports it (the app only launches it as a process).
"""
