"""One blueprint per resource. ``BLUEPRINTS`` lists them in registration order."""

from __future__ import annotations

from flask import Blueprint

from sync_server.blueprints import (
    admin,
    audit,
    auth,
    documents,
    health,
    invitations,
    me,
    members,
    openapi,
    payslips,
    permissions,
    privacy,
    privacy_requests,
    privacy_self,
    reports,
    sync,
)

BLUEPRINTS: tuple[Blueprint, ...] = (
    health.bp,
    openapi.bp,
    auth.bp,
    me.bp,
    sync.bp,
    audit.bp,
    admin.bp,
    members.bp,
    invitations.bp,
    permissions.bp,
    reports.bp,
    payslips.bp,
    documents.bp,
    privacy.bp,
    privacy_requests.bp,
    privacy_self.bp,
)
