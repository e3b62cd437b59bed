from __future__ import annotations

import yaml

from privtune.config import PipelineConfig, parse_config


def test_validate_reports_yaml_path_and_line(tmp_path, cli):
    f = tmp_path / "c.yaml"
    f.write_text("run:\n  name: ok\ningest:\n  schema: tabular\n  keep: [a]\n  colour: blue\n")
    res = cli("config", "validate", f)
    assert res.code == 2
    assert f"{f}:4: ingest.schema" in res.err
    assert f"{f}:6: ingest.colour: unknown key" in res.err


def test_validate_bad_yaml_and_non_mapping(tmp_path, cli):
    f = tmp_path / "c.yaml"
    f.write_text("ingest: [unclosed\n")
    res = cli("config", "validate", f)
    assert res.code == 2 and "not valid YAML" in res.err
    f.write_text("- a\n- b\n")
    assert cli("config", "validate", f).code == 2


def test_example_is_complete_commented_and_valid(tmp_path, cli):
    res = cli("config", "example")
    assert res.code == 0
    assert res.out.count("#") > 10
    cfg = parse_config(res.out)
    assert cfg == PipelineConfig()
    assert set(yaml.safe_load(res.out)) == set(PipelineConfig.model_fields)
    f = tmp_path / "ex.yaml"
    f.write_text(res.out)
    ok = cli("config", "validate", f, "--json")
    assert ok.code == 0 and '"valid": true' in ok.out
