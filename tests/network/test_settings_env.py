import pytest
from django.core.exceptions import ImproperlyConfigured

from network import env


def test_env_bool_refuses_a_typo(monkeypatch):
    monkeypatch.setenv("SOME_FLAG", "ture")
    with pytest.raises(ImproperlyConfigured, match="SOME_FLAG"):
        env.env_bool("SOME_FLAG")


@pytest.mark.parametrize(("raw", "value"), [("1", True), ("yes", True), ("off", False), ("", False)])
def test_env_bool_spellings(monkeypatch, raw, value):
    monkeypatch.setenv("SOME_FLAG", raw)
    assert env.env_bool("SOME_FLAG") is value


def test_env_int_refuses_words(monkeypatch):
    monkeypatch.setenv("SOME_INT", "ten")
    with pytest.raises(ImproperlyConfigured, match="SOME_INT must be an integer"):
        env.env_int("SOME_INT", 1)


def test_env_url_checks_the_scheme(monkeypatch):
    monkeypatch.setenv("SOME_URL", "mysql://db/x")
    with pytest.raises(ImproperlyConfigured, match="SOME_URL"):
        env.env_url("SOME_URL", schemes=("postgres",))


def test_production_refuses_the_default_secret():
    import subprocess
    import sys

    result = subprocess.run(
        [sys.executable, "-c", "import django, os; os.environ['DJANGO_SETTINGS_MODULE']='network.settings'; django.setup()"],
        env={"PATH": "/usr/bin:/bin", "DEBUG": "0"}, capture_output=True, text=True, check=False,
    )
    assert result.returncode != 0
    assert "SECRET_KEY is unset" in result.stderr
