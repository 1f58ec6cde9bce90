"""Every deadline is computed in America/New_York (D1)."""

from zoneinfo import ZoneInfo

NEW_YORK = ZoneInfo("America/New_York")
