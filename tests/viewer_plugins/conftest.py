"""The analysed phantom case these tests use is a session fixture of tests/conftest.py."""
