"""Helpers only the tests use: Snowflake emulated by fakesnow, the portability check, the
public datasets mapped into the input contract."""
