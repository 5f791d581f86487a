"""`[engine]` settings that reach the Spark session: any Spark property (`spark_conf`) and the
driver JVM's options (`java_options`), checked in a fresh process as `klantreis` starts one;
the JVM's own warnings are kept out of stdout (a command's `--json` answer)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from klantreis.config import ConfigError
from klantreis.store.engines.spark.configuration import SparkConfiguration

PROBE = textwrap.dedent(
    """
    import json, sys
    from klantreis.config import load_settings
    from klantreis.store.engines.spark.configuration import SparkConfiguration
    from klantreis.store.engines.spark.factory import engine_session

    settings = load_settings()
    session = engine_session(SparkConfiguration.from_options(settings.engine_options))
    jvm = session.sparkContext._jvm
    arguments = jvm.java.lang.management.ManagementFactory.getRuntimeMXBean().getInputArguments()
    print(json.dumps({
        "jvm": [str(a) for a in arguments],
        "adaptive": session.conf.get("spark.sql.adaptive.enabled"),
        "partitions": session.conf.get("spark.sql.shuffle.partitions"),
    }))
    """
)


def test_spark_conf_and_java_options_are_read_and_typed() -> None:
    config = SparkConfiguration.from_options(
        {"spark_conf": {"spark.executor.memory": "8g"}, "java_options": "-Xss4m"}
    )
    assert config.spark_conf == {"spark.executor.memory": "8g"}
    assert config.java_options == "-Xss4m"
    assert SparkConfiguration().spark_conf == {}


def test_a_spark_property_that_is_not_text_is_refused_by_name() -> None:
    with pytest.raises(ConfigError, match=r"spark_conf\.spark\.executor\.cores"):
        SparkConfiguration.from_options({"spark_conf": {"spark.executor.cores": [4]}})


@pytest.mark.spark
@pytest.mark.slow
def test_the_session_gets_the_spark_properties_and_the_jvm_its_options(tmp_path: Path) -> None:
    pytest.importorskip("pyspark")
    config = tmp_path / "klantreis.toml"
    config.write_text(
        '[engine]\nname = "spark"\nmaster = "local[1]"\nshuffle_partitions = 3\n'
        'driver_memory = "1g"\n'
        # the JVM prints its flags (and, without large pages here, warns about them): both
        # on stdout by default
        'java_options = "-XX:TieredStopAtLevel=1 -Dklantreis.probe=1 '
        '-XX:+PrintFlagsFinal -XX:+UseLargePages"\n'
        '[engine.spark_conf]\n"spark.sql.adaptive.enabled" = "false"\n'
        '"spark.sql.shuffle.partitions" = "5"\n'
    )
    done = subprocess.run(
        [sys.executable, "-c", PROBE],
        capture_output=True,
        text=True,
        timeout=300,
        # without the suite's own JVM options (tests/conftest.py): only klantreis.toml's count
        env={
            **{k: v for k, v in os.environ.items() if k != "JAVA_TOOL_OPTIONS"},
            "KLANTREIS_CONFIG": str(config),
        },
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    # the JVM's warnings go to stderr: stdout is the command's answer alone (`--json`)
    assert "[Global flags]" in done.stderr
    seen = json.loads(done.stdout)
    assert "-XX:TieredStopAtLevel=1" in seen["jvm"]
    assert "-Dklantreis.probe=1" in seen["jvm"]
    assert seen["adaptive"] == "false"
    assert seen["partitions"] == "5"  # spark_conf wins over the setting it names
