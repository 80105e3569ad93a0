"""The `interp` command: help is fast and light, info prints facts, bad input exits 2."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from interp_cli.main import main


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "interp_cli.main", *args],
                          capture_output=True, text=True, timeout=120, check=False)


def test_help_does_not_import_heavy_modules():
    code = ("import sys; from interp_cli.main import build_parser; build_parser(); "
            "print(sorted(m for m in ('torch', 'transformer_lens', 'transformers') "
            "if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_help_and_version():
    help_run = run_cli("--help")
    assert help_run.returncode == 0 and "info" in help_run.stdout
    version = run_cli("--version")
    assert version.returncode == 0 and version.stdout.startswith("interp ")


def test_info_json(tiny_model_dirs, capsys):
    assert main(["info", "--model", str(tiny_model_dirs["llama"]), "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["n_layers"] == 2 and info["gated_mlp"] is True
    assert len(info["fingerprint"]) >= 8


@pytest.mark.parametrize("source", ["/definitely/not/here", "no-such-org/no-such-model"])
def test_bad_model_is_one_line_exit_2(source):
    result = run_cli("info", "--model", source)
    assert result.returncode == 2
    # at most the progress line of the load before the one error line
    lines = [line for line in result.stderr.splitlines() if not line.startswith("interp: ")]
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert "Traceback" not in result.stderr


def test_truncated_weights_exit_2(tiny_model_dirs, tmp_path):
    import shutil

    broken = tmp_path / "broken"
    shutil.copytree(tiny_model_dirs["gpt2"], broken)
    weights = broken / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[: weights.stat().st_size // 2])
    result = run_cli("info", "--model", str(broken))
    assert result.returncode == 2 and "broken" in result.stderr
    assert "Traceback" not in result.stderr


def test_info_layer_lists_hooks_and_rejects_out_of_range(tiny_model_dirs, capsys):
    source = str(tiny_model_dirs["gpt2"])
    assert main(["info", "--model", source, "--layer", "1", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["hook mlp_post"] == "blocks.1.mlp.hook_post"
    assert main(["info", "--model", source, "--layer", "7"]) == 2
    err = capsys.readouterr().err.splitlines()[-1]  # after the load's progress lines
    assert err.startswith("error: ") and "7" in err and "0..1" in err
