"""Cognito identity pool roles (Set/GetIdentityPoolRoles): moto 5.2 lacks them; Cognito checks need them."""

from __future__ import annotations


def install_cognito() -> None:
    """Route moto's cognito-identity URLs to a response class serving the identity pool role operations."""
