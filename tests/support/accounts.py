"""The password every test user is made with (tests/conftest.py `make_user`)."""

PASSWORD = "Correct-Horse-42"
