"""``make serve`` (config/serve.py): what it refuses and the proxy it generates. The shape itself
runs under the HTTP smoke suite (tests/smoke, ``.ci/smoke``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from config.serve import ServeError, nginx_config, production_environment

FULL = {"SECRET_KEY": "k", "DATABASE_URL": "postgres://db/x", "REDIS_URL": "redis://r:6379/0"}


@pytest.mark.parametrize("missing", sorted(FULL))
def test_refuses_to_start_without_each_required_variable(missing):
    env = {k: v for k, v in FULL.items() if k != missing}
    with pytest.raises(ServeError, match=f"{missing}.* must be set"):
        production_environment(env)


def test_production_settings_whatever_the_shell_or_dotenv_says():
    env = production_environment({**FULL, "DEBUG": "1", "TESTING": "1"})
    assert (env["DEBUG"], env["ENV_FILE"]) == ("0", "")
    assert "TESTING" not in env


def test_without_redis_needs_a_broker_and_drops_redis():
    with pytest.raises(ServeError, match="CELERY_BROKER_URL"):
        production_environment(FULL, redis=False)
    env = production_environment(
        {**FULL, "CELERY_BROKER_URL": "amqp://guest:guest@127.0.0.1:5672//"}, redis=False
    )
    assert "REDIS_URL" not in env


def test_nginx_buffers_whole_requests_up_to_the_body_limit(tmp_path: Path):
    conf = nginx_config(tmp_path, "127.0.0.1:18199", tmp_path / "g.sock", 16777216)
    assert "client_max_body_size 16777216;" in conf
    assert "proxy_request_buffering on;" in conf and "proxy_buffering on;" in conf
    assert f"server unix:{tmp_path / 'g.sock'};" in conf
    assert '"code":10011' in conf  # an oversized body still gets the JSON envelope
