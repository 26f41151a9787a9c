"""The one fixed date the editions carry, so that the same book gives the same bytes."""

from __future__ import annotations

import os
from datetime import UTC, datetime

from ..config import BookConfig
from ..errors import ConfigError


def modification_time(config: BookConfig) -> datetime:
    """The fixed time the edition is dated: SOURCE_DATE_EPOCH, else [epub] modified, else the copyright year."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch:
        if not epoch.isdigit():
            raise ConfigError(f"SOURCE_DATE_EPOCH must be whole seconds since 1970, not {epoch!r}",
                              hint="unset it or set it to e.g. $(git log -1 --format=%ct)")
        return datetime.fromtimestamp(int(epoch), UTC)
    if config.epub.modified:
        return datetime.strptime(config.epub.modified, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    return datetime(2000, 1, 1, tzinfo=UTC)
