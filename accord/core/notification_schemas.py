"""Ninja schemas of the notification inbox API."""

from __future__ import annotations

import datetime as dt

from ninja import Field, Schema

from accord.core.schemas import MAX_OFFSET, MAX_PAGE_SIZE, PAGE_SIZE


class NotificationOut(Schema):
    id: int
    subject: str
    body: str
    link: str = Field(description="Where the matter can be seen, e.g. /programs/.../.")
    organisation_id: int | None
    created_at: dt.datetime
    read_at: dt.datetime | None


class NotificationPage(Schema):
    count: int
    unread: int = Field(description="The caller's unread notifications in all.")
    items: list[NotificationOut]


class NotificationFilter(Schema):
    unread: bool = Field(False, description="Only notifications not read yet.")
    limit: int = Field(PAGE_SIZE, ge=1, le=MAX_PAGE_SIZE)
    offset: int = Field(0, ge=0, le=MAX_OFFSET)
