"""The app's AWS layer: the only code that talks to AWS (async, over aiobotocore).

Models of Device Defender's replies (`models`), the catalogue of audit checks (`catalogue`), the client,
its errors, the read-only guard and the journal of mutating calls.
"""
