"""The Textual app: panes for audit settings, results and mitigation over the AWS layer."""
