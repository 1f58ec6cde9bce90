"""The shared runtime every premiums service is built on (ARCHITECTURE §1, §6)."""
