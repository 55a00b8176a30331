"""Mailchimp's problem-detail errors, raised by the store and answered by the server."""

from __future__ import annotations

import uuid

ERROR_DOCS = "https://mailchimp.com/developer/marketing/docs/errors/"


class ApiError(Exception):
    def __init__(self, status: int, title: str, detail: str, errors: list[dict] | None = None):
        super().__init__(detail)
        self.status, self.title, self.detail, self.errors = status, title, detail, errors or []

    def body(self) -> dict:
        body = {
            "type": ERROR_DOCS,
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
            "instance": str(uuid.uuid4()),
        }
        if self.errors:
            body["errors"] = self.errors
        return body


def invalid(detail: str, field: str | None = None, message: str | None = None) -> ApiError:
    errors = [{"field": field, "message": message or detail}] if field else None
    return ApiError(400, "Invalid Resource", detail, errors)


def not_found(what: str) -> ApiError:
    return ApiError(404, "Resource Not Found", f"The requested resource could not be found: {what}.")
